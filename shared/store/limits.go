package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// Where the rate-limit counters live, and why so.
//
// Every item a transaction touches bills two write units, so the counters a
// code request spends and checks share items wherever their subject is the
// same: an account's codes of each hour and its wrong codes of each day are
// attributes of its verification item, which the request writes anyway; a
// number's codes and wrong codes of the day are attributes of one item per
// number and day. The source-address and number-range counters keep an item
// each. The global daily cap is not in the transaction at all: each warm
// adapter reserves it in blocks (see lease).
//
//	item                                  attributes
//	ACCOUNT#<account>        VERIFICATION codes_YYYYMMDDHH, failures_YYYYMMDD
//	LIMIT#phone#<phone HMAC> <day>        codes, failures
//	LIMIT#<name>#<subject>   <window>     count

// slot is where one counter is kept: an item and an attribute of it. end is
// when the item's longest window closes (its TTL follows).
type slot struct {
	pk, sk string
	attr   string
	end    time.Time
}

func utcDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// slotOf says where counter c lives.
func slotOf(c binding.Counter) slot {
	day := utcDay(c.WindowStart)
	switch c.Name {
	case binding.LimitAccountHour:
		// An account's counters ride on its verification item, which every
		// code request writes anyway (verificationWrite).
		if c.Period == time.Hour && c.WindowStart.Equal(c.WindowStart.Truncate(time.Hour)) {
			return slot{pk: accountPK(c.Subject), sk: skVerification, attr: hourCodesAttr(c.WindowStart), end: c.WindowEnd()}
		}
	case binding.LimitFailuresAccount:
		if c.Period == 24*time.Hour && c.WindowStart.Equal(day) {
			return slot{pk: accountPK(c.Subject), sk: skVerification, attr: dayFailuresAttr(day), end: c.WindowEnd()}
		}
	case binding.LimitPhoneDay:
		if c.Period == 24*time.Hour && c.WindowStart.Equal(day) {
			return slot{pk: phoneCountersPK(c.Subject), sk: formatTime(day), attr: attrCodes, end: day.Add(24 * time.Hour)}
		}
	case binding.LimitFailuresPhone:
		if c.Period == 24*time.Hour && c.WindowStart.Equal(day) {
			return slot{pk: phoneCountersPK(c.Subject), sk: formatTime(day), attr: attrFailures, end: day.Add(24 * time.Hour)}
		}
	}
	return slot{pk: counterPK(c), sk: counterSK(c), attr: attrCount, end: c.WindowEnd()}
}

// limitItem is one item of counters a code request writes or checks.
type limitItem struct {
	pk, sk string
	end    time.Time
	spend  []binding.Counter // one more on each
	check  []binding.Counter // must be below Max, not spent
	tally  []binding.Counter // one more on each, with no ceiling
}

// members are the item's counters held to their Max, spent ones first.
func (l *limitItem) members() []binding.Counter {
	return append(append([]binding.Counter{}, l.spend...), l.check...)
}

// groupLimits puts the counters to spend, to check and to tally into their
// items, in the order first named.
func groupLimits(spend, check, tally []binding.Counter) []*limitItem {
	var out []*limitItem
	find := func(s slot) *limitItem {
		for _, it := range out {
			if it.pk == s.pk && it.sk == s.sk {
				if s.end.After(it.end) {
					it.end = s.end
				}
				return it
			}
		}
		it := &limitItem{pk: s.pk, sk: s.sk, end: s.end}
		out = append(out, it)
		return it
	}
	for _, c := range spend {
		it := find(slotOf(c))
		it.spend = append(it.spend, c)
	}
	for _, c := range check {
		it := find(slotOf(c))
		it.check = append(it.check, c)
	}
	for _, c := range tally {
		it := find(slotOf(c))
		it.tally = append(it.tally, c)
	}
	return out
}

// below holds while attribute attr (missing: zero) is under max.
func below(attr string, max int) expression.ConditionBuilder {
	n := expression.Name(attr)
	return expression.AttributeNotExists(n).Or(n.LessThan(expression.Value(max)))
}

// transactItem is the item as one transaction entry: an Update when it
// spends or tallies, a ConditionCheck when it only checks.
func (l *limitItem) transactItem(table string) (types.TransactWriteItem, error) {
	var cond expression.ConditionBuilder
	members := l.members()
	for i, c := range members {
		b := below(slotOf(c).attr, c.Max)
		if i == 0 {
			cond = b
		} else {
			cond = cond.And(b)
		}
	}
	k := key(l.pk, l.sk)
	if len(l.spend) == 0 && len(l.tally) == 0 {
		expr, err := expression.NewBuilder().WithCondition(cond).Build()
		if err != nil {
			return types.TransactWriteItem{}, fmt.Errorf("build limit check: %w", err)
		}
		return oldOnFailure(checkItem(table, k, expr)), nil
	}
	upd := limitTouch(l.end)
	for _, c := range append(append([]binding.Counter{}, l.spend...), l.tally...) {
		upd = upd.Add(expression.Name(slotOf(c).attr), expression.Value(1))
	}
	b := expression.NewBuilder().WithUpdate(upd)
	if len(members) > 0 {
		b = b.WithCondition(cond)
	}
	expr, err := b.Build()
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("build limit update: %w", err)
	}
	return oldOnFailure(update(table, k, expr)), nil
}

// limitTouch marks a counter item and lets TTL remove it an hour after its
// longest window.
func limitTouch(end time.Time) expression.UpdateBuilder {
	return expression.Set(expression.Name(attrType), expression.Value(typeCounter)).
		Set(expression.Name(attrTTL), expression.Value(end.Add(time.Hour).Unix()))
}

// tripped says which counter of a refused item is at its ceiling, from the
// item as it was (old; read again when the engine did not return it).
func (d *Dynamo) tripped(ctx context.Context, l *limitItem, old map[string]types.AttributeValue) binding.Counter {
	members := l.members()
	if len(old) == 0 {
		out, err := d.db.GetItem(ctx, consistentGet(d.table, key(l.pk, l.sk)))
		if err == nil {
			old = out.Item
		}
	}
	for _, c := range members {
		if n, ok := intAttr(old, slotOf(c).attr); ok && n >= c.Max {
			return c
		}
	}
	return members[0]
}

// intAttr reads a number attribute.
func intAttr(item map[string]types.AttributeValue, name string) (int, bool) {
	av, ok := item[name]
	if !ok {
		return 0, false
	}
	var n int
	if err := attributevalue.Unmarshal(av, &n); err != nil {
		return 0, false
	}
	return n, true
}

// giveBack takes one code back from counter c (never below zero).
func (d *Dynamo) giveBack(ctx context.Context, c binding.Counter) error {
	if d.leased(c) {
		d.lease.giveBack(c)
		return nil
	}
	s := slotOf(c)
	n := expression.Name(s.attr)
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Add(n, expression.Value(-1))).
		WithCondition(n.GreaterThanEqual(expression.Value(1))).Build()
	if err != nil {
		return fmt.Errorf("build give-back: %w", err)
	}
	_, err = d.db.UpdateItem(ctx, conditionalUpdate(d.table, key(s.pk, s.sk), expr))
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("give back %s: %w", c.Name, err)
	}
	return nil
}

// countOne adds one, with no ceiling, to counter c (a wrong code). A
// counter on a verification item is counted only while the item is there
// (it always is while a code can be entered).
func (d *Dynamo) countOne(ctx context.Context, c binding.Counter) error {
	s := slotOf(c)
	b := expression.NewBuilder().WithUpdate(limitTouch(s.end).Add(expression.Name(s.attr), expression.Value(1)))
	own := s.sk == skVerification
	if own {
		b = expression.NewBuilder().WithUpdate(expression.Add(expression.Name(s.attr), expression.Value(1))).
			WithCondition(expression.AttributeExists(expression.Name(attrPK)))
	}
	expr, err := b.Build()
	if err != nil {
		return fmt.Errorf("build failure count: %w", err)
	}
	_, err = d.db.UpdateItem(ctx, conditionalUpdate(d.table, key(s.pk, s.sk), expr))
	if err != nil && !(own && isConditionFailed(err)) {
		return fmt.Errorf("count %s: %w", c.Name, err)
	}
	return nil
}

// ownResets splits the counters a success clears into the attributes of
// the account's verification item (cleared by the commit's write of that
// item) and the rest.
func ownResets(counters []binding.Counter) (attrs []string, rest []binding.Counter) {
	for _, c := range counters {
		if s := slotOf(c); s.sk == skVerification {
			attrs = append(attrs, s.attr)
		} else {
			rest = append(rest, c)
		}
	}
	return attrs, rest
}

// resetItems clear the counters a success resets, inside the commit's
// transaction, but only those that hold something: every transaction item
// bills two write units, a read to find out half of one. A wrong code
// counted between the read and the commit is left standing, as if it came
// just after the success.
func (d *Dynamo) resetItems(ctx context.Context, counters []binding.Counter) []types.TransactWriteItem {
	if len(counters) == 0 {
		return nil
	}
	// Usually one item (the number's day); read eventually consistent.
	held := map[string]map[string]types.AttributeValue{}
	for _, c := range counters {
		s := slotOf(c)
		k := s.pk + "\x00" + s.sk
		if _, ok := held[k]; ok {
			continue
		}
		out, err := d.db.GetItem(ctx, getByKey(d.table, key(s.pk, s.sk)))
		if err != nil {
			// The reset is not worth failing a right code for: the wrong
			// codes stand, which errs on the safe side.
			held[k] = nil
			continue
		}
		held[k] = out.Item
	}
	var items []types.TransactWriteItem
	for _, c := range counters {
		s := slotOf(c)
		if n, _ := intAttr(held[s.pk+"\x00"+s.sk], s.attr); n == 0 {
			continue
		}
		expr, err := expression.NewBuilder().WithUpdate(expression.Remove(expression.Name(s.attr))).Build()
		if err != nil {
			continue // as a failed read above: the wrong codes stand
		}
		items = append(items, update(d.table, key(s.pk, s.sk), expr))
	}
	return items
}

// leaseBlock is the most codes of a leased cap an adapter reserves at once:
// a hundredth of the cap, between 1 and 50. A fresh adapter starts with one
// and doubles the block with each reservation, so an instance that serves a
// few requests and goes holds back a code or two, a busy one at most this
// many. Unused reservations lapse with the window: the cap may be reached
// early by what instances hold, never exceeded.
func leaseBlock(ceiling int) int {
	return min(50, max(1, ceiling/100))
}

// lease is this adapter's reservation of a leased counter (the global daily
// cap): codes are taken from it without a write, and a block more is
// reserved with one conditional UpdateItem when it runs out.
type lease struct {
	mu   sync.Mutex
	key  string // the counter and window reserved from
	left int
	next int // the next block to ask for (0: one)
}

// leased reports whether counter c is reserved in blocks rather than spent
// inside the code's transaction.
func (d *Dynamo) leased(c binding.Counter) bool { return c.Name == binding.LimitGlobalDay }

// take spends one code of c from the reservation, reserving more first when
// it is empty; a cap with nothing left to reserve is a *binding.LimitError.
func (l *lease) take(ctx context.Context, d *Dynamo, c binding.Counter) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if k := counterKey(c); l.key != k {
		l.key, l.left = k, 0
	}
	if l.left == 0 {
		n, err := d.reserve(ctx, c, min(max(l.next, 1), leaseBlock(c.Max)))
		if err != nil {
			return err
		}
		l.left = n
		l.next = 2 * max(l.next, 1)
	}
	l.left--
	return nil
}

// giveBack returns an unused code to the reservation it came from.
func (l *lease) giveBack(c binding.Counter) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.key == counterKey(c) {
		l.left++
	}
}

// reserve adds up to n codes to counter c's item without passing its Max
// and says how many it got.
func (d *Dynamo) reserve(ctx context.Context, c binding.Counter, n int) (int, error) {
	for try := 0; try < 3; try++ {
		count := expression.Name(attrCount)
		expr, err := expression.NewBuilder().
			WithUpdate(limitTouch(c.WindowEnd()).Add(count, expression.Value(n)).
				Set(expression.Name(attrLimit), expression.Value(c.Name))).
			WithCondition(expression.AttributeNotExists(count).Or(count.LessThanEqual(expression.Value(c.Max - n)))).
			Build()
		if err != nil {
			return 0, fmt.Errorf("build reservation: %w", err)
		}
		_, err = d.db.UpdateItem(ctx, conditionalUpdate(d.table, key(counterPK(c), counterSK(c)), expr))
		if err == nil {
			return n, nil
		}
		if !isConditionFailed(err) {
			return 0, fmt.Errorf("reserve %s: %w", c.Name, err)
		}
		out, err := d.db.GetItem(ctx, consistentGet(d.table, key(counterPK(c), counterSK(c))))
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", c.Name, err)
		}
		used, _ := intAttr(out.Item, attrCount)
		if n = min(n, c.Max-used); n <= 0 {
			return 0, &binding.LimitError{Counter: c}
		}
	}
	return 0, &binding.LimitError{Counter: c}
}
