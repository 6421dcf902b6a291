package main

import (
	"fmt"

	"github.com/gosuslugi/phonebind/infra/lambdarun"
)

// readFunction is the function portal services invoke to read a number
// (SPEC §4.8): no route, so the route tables name it by its event.
const readFunction = "PhoneReadFunction"

// readRoute is how the handler table names the read's benchmark, which has
// no HTTP route.
const readRoute = "read_phone (direct invocation)"

// readDollars prices one million allowed reads of the number: a direct
// invocation (no API Gateway), its billed duration and share of cold
// starts, and its DynamoDB units, from the medians measured.
func (r *report) readDollars() ([]costLine, float64) {
	op := r.ops[opReadAllowed]
	if op == nil || len(op.durations) == 0 {
		return nil, 0
	}
	gb := r.memoryGB(op.function)
	billed := lambdarun.Billed(median(op.durations)).Milliseconds()
	gbs := float64(billed) / 1000 * gb
	initGBs := 0.0
	for _, c := range r.cold[1:] {
		if c.name == op.function {
			initGBs = coldStartShare * float64(lambdarun.Billed(median(c.inits)).Milliseconds()) / 1000 * gb
		}
	}
	wru, rru := median(op.write), median(op.read)
	lines := []costLine{
		{"Lambda requests", "1", "$0.20 / M", priceLambdaRequest * 1e6},
		{"Lambda duration (handler)", fmt.Sprintf("%d ms billed × %.2f GB = %.5f GB-s", billed, gb, gbs), "$0.0000133334 / GB-s", gbs * priceLambdaGBSecondARM * 1e6},
	}
	return priced(lines, initGBs, wru, rru)
}

// readSection is the dollars of a million reads, beside the verifications'.
func (r *report) readSection(p printer) {
	lines, total := r.readDollars()
	if lines == nil {
		return
	}
	p("## Dollars: one million reads of the number\n\n")
	p("| item | per read | price | per million reads |\n|---|---|---|---|\n")
	for _, l := range lines {
		p("| %s | %s | %s | %s |\n", l.item, l.quantity, l.price, usd(l.perMillion))
	}
	p("| **AWS infrastructure** | | | **%s** |\n\n", usd(total))
}
