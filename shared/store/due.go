// The removals whose hold has run out, for the job that completes them
// (binding.Service.CompleteDueUnbinds): a sparse index of the profiles
// that carry hold_due, which only a scheduled removal sets.

package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DueUnbindsIndex is the global secondary index of the profiles whose
// removal is scheduled: partition hold_due ("HOLD", set by ScheduleUnbind
// and removed by every later write of the profile), sort unbind_at. Keys
// only: the job reads each profile itself before it completes anything.
const (
	DueUnbindsIndex = "HoldsDue"
	attrHoldDue     = "hold_due"
	holdDue         = "HOLD"
)

// DueUnbinds implements binding.Store with one Query of DueUnbindsIndex
// (more pages up to limit): hold_due = HOLD and unbind_at <= now, oldest
// first. The index is eventually consistent, so a hold completed or
// cancelled a moment ago may still be listed; LapseUnbind, conditional
// on the profile, is what decides.
func (d *Dynamo) DueUnbinds(ctx context.Context, now time.Time, limit int) ([]string, error) {
	cond := expression.Key(attrHoldDue).Equal(expression.Value(holdDue)).
		And(expression.Key(attrUnbindAt).LessThanEqual(expression.Value(formatTime(now))))
	expr, err := expression.NewBuilder().WithKeyCondition(cond).Build()
	if err != nil {
		return nil, fmt.Errorf("build due holds query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 &d.table,
		IndexName:                 aws.String(DueUnbindsIndex),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}
	var out []string
	for len(out) < limit {
		in.Limit = aws.Int32(int32(limit - len(out)))
		page, err := d.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query due holds: %w", err)
		}
		for _, it := range page.Items {
			if id, ok := accountOf(it); ok {
				out = append(out, id)
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return out, nil
}

// DueUnbinds implements binding.Store.
func (m *Memory) DueUnbinds(_ context.Context, now time.Time, limit int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []string
	for id, p := range m.profiles {
		if p.Lapsed(now) {
			due = append(due, id)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		a, b := m.profiles[due[i]].UnbindAt, m.profiles[due[j]].UnbindAt
		return a.Before(b) || a.Equal(b) && due[i] < due[j]
	})
	return due[:min(len(due), limit)], nil
}

// accountOf reads the account id out of a profile's key.
func accountOf(item map[string]types.AttributeValue) (string, bool) {
	pk, ok := item[attrPK].(*types.AttributeValueMemberS)
	if !ok {
		return "", false
	}
	return strings.CutPrefix(pk.Value, prefixAccount)
}
