package store

import (
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// setEmail adds the sealed verified address to a profile update (nil: the
// update leaves the kept one as it is).
func setEmail(upd expression.UpdateBuilder, e *binding.SealedEmail) expression.UpdateBuilder {
	if e == nil {
		return upd
	}
	return upd.Set(expression.Name(attrEmailHMAC), expression.Value(e.HMAC)).
		Set(expression.Name(attrEmailKeyID), expression.Value(e.KeyID)).
		Set(expression.Name(attrEmailCiphertext), expression.Value(e.Ciphertext)).
		Set(expression.Name(attrEmailMasked), expression.Value(e.Masked))
}
