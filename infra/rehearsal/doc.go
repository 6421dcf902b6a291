// Package rehearsal holds the stack rehearsal (rehearsal_test.go): the
// SAM template, translated by the SAM translator as `sam deploy` has
// CloudFormation do it, created on moto's CloudFormation, and every
// declared resource looked up as it came up. It has no code of its own.
package rehearsal
