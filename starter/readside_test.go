package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/services"
)

func TestLagWarning(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fresh := func(source string, events int, behind time.Duration) readstore.SourceLag {
		l := readstore.SourceLag{Source: source, Events: events, Measured: now.Add(-time.Second)}
		if events > 0 {
			l.Oldest = l.Measured.Add(-behind)
		}
		return l
	}
	all := func(ls ...readstore.SourceLag) []readstore.SourceLag {
		out := []readstore.SourceLag{fresh("inventory", 0, 0), fresh("orders", 0, 0), fresh("payments", 0, 0), fresh("shipping", 0, 0)}
		for _, l := range ls {
			for i := range out {
				if out[i].Source == l.Source {
					out[i] = l
				}
			}
		}
		return out
	}
	stale := func(ago time.Duration) []readstore.SourceLag {
		ls := all()
		for i := range ls {
			ls[i].Measured = now.Add(-ago)
		}
		return ls
	}
	cases := []struct {
		name string
		lags []readstore.SourceLag
		want []string // substrings; none: no warning
	}{
		{"caught up", all(), nil},
		{"a backlog of 5s at most", all(fresh("payments", 120, 5*time.Second)), nil},
		{"old events but none left", all(readstore.SourceLag{Source: "payments", Measured: now, Oldest: now.Add(-time.Hour)}), nil},
		{"a backlog past 5s", all(fresh("payments", 120, 14*time.Second)), []string{"read store lags: payments 120 events, 14s behind"}},
		{"one event", all(fresh("orders", 1, 6*time.Second)), []string{"read store lags: orders 1 event, 6s behind"}},
		{"two sources", all(fresh("inventory", 3, 7*time.Second), fresh("shipping", 40, 2*time.Minute)),
			[]string{"read store lags: inventory 3 events, 7s behind, shipping 40 events, 2m behind"}},
		{"measured 29s ago", stale(29 * time.Second), nil},
		{"measured 31s ago", stale(31 * time.Second), []string{"read store not updated for 31s: is a projector running?", "--projector=false", "go run ./projector"}},
		{"measured 2m ago", stale(2 * time.Minute), []string{"read store not updated for 2m: is a projector running?"}},
		{"never measured", nil, []string{"read store never updated: is a projector running?"}},
	}
	for _, tc := range cases {
		got := lagWarning(tc.lags, now)
		if len(tc.want) == 0 && got != "" {
			t.Errorf("%s: warning %q, want none", tc.name, got)
		}
		if len(tc.want) > 0 && got == "" {
			t.Errorf("%s: no warning, want %q", tc.name, tc.want)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: warning %q, want it to contain %q", tc.name, got, w)
			}
		}
		if strings.Contains(got, "\n") {
			t.Errorf("%s: warning %q spans lines", tc.name, got)
		}
	}
	// A stale measurement of a backlog: both, on one line.
	ls := stale(time.Hour)
	ls[2].Events, ls[2].Oldest = 9, ls[2].Measured.Add(-10*time.Second)
	if got := lagWarning(ls, now); !strings.Contains(got, "payments 9 events, 10s behind") || !strings.Contains(got, "not updated for 1h") {
		t.Errorf("stale backlog: warning %q", got)
	}
}

func TestEventDetail(t *testing.T) {
	js := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		kind   string
		detail json.RawMessage
		want   string
	}{
		{services.EventOrderCreated, js(services.OrderDetail{CustomerID: "alice", Region: "eu",
			Items: []services.Item{{SKU: "SKU-1", Quantity: 2}, {SKU: "SKU-2", Quantity: 1}}, Total: 2950}),
			"alice eu SKU-1 x2, SKU-2 x1, total 29.50"},
		{services.EventOrderConfirmed, nil, ""},
		{services.EventOrderCancelled, js(services.CancelDetail{Reason: "payment declined"}), "payment declined"},
		{services.EventStockReserved, js([]services.StockLine{{SKU: "SKU-1", Quantity: 2, UnitPrice: 1200}}), "SKU-1 x2 @ 12.00"},
		{services.EventStockReleased, js([]services.StockLine{{SKU: "SKU-1", Quantity: 2, UnitPrice: 1200}, {SKU: "SKU-9", Quantity: 1}}),
			"SKU-1 x2 @ 12.00, SKU-9 x1"},
		{services.EventPaymentCaptured, js(services.PaymentDetail{CustomerID: "alice", Amount: 2400}), "alice 24.00"},
		{services.EventPaymentRefunded, js(services.PaymentDetail{CustomerID: "alice", Amount: 5}), "alice 0.05"},
		{services.EventShipmentCreated, js(services.ShipmentDetail{Tracking: "TRK-1", Country: "DE"}), "tracking TRK-1 to DE"},
		{services.EventShipmentCancelled, json.RawMessage("null"), ""},
		{"SomethingNew", json.RawMessage(`{ "a": 1 }`), `{"a":1}`},
		{services.EventPaymentCaptured, json.RawMessage(`"not an object"`), `"not an object"`},
	}
	for _, tc := range cases {
		if got := eventDetail(tc.kind, tc.detail); got != tc.want {
			t.Errorf("eventDetail(%s, %s) = %q, want %q", tc.kind, tc.detail, got, tc.want)
		}
	}
}

// lines returns the non-empty lines of s with their runs of spaces made one.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestWriteCustomerOrders(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := customerOrders{CustomerID: "alice", Orders: []orderFacts{
		{Facts: readstore.Facts{OrderID: "o-b", Items: []services.Item{{SKU: "SKU-1", Quantity: 1}}, Total: 1200, Status: "CANCELLED",
			Stock: "released", Payment: "refunded", Amount: 1200, Shipment: "cancelled", FirstEventAt: t0}, Outcome: "COMPENSATED"},
		{Facts: readstore.Facts{OrderID: "o-a", Items: []services.Item{{SKU: "SKU-1", Quantity: 2}, {SKU: "SKU-2", Quantity: 1}}, Total: 2950,
			Status: "CONFIRMED", Stock: "reserved", Payment: "captured", Amount: 2950, Shipment: "created", FirstEventAt: t0.Add(time.Minute)},
			Outcome: "COMPLETED"},
		{Facts: readstore.Facts{OrderID: "o-c", FirstEventAt: t0.Add(2 * time.Minute), Payment: "captured", Amount: 100}, Outcome: "IN_FLIGHT"},
	}, Counts: customerTotal{Orders: 2, Confirmed: 1, Cancelled: 1, Captured: 4150, Refunded: 1200, Spend: 2950}}
	var b bytes.Buffer
	writeCustomerOrders(&b, r)
	got := lines(b.String())
	want := []string{
		"ORDER OUTCOME STATUS TOTAL ITEMS PAYMENT STOCK SHIPMENT FIRST EVENT",
		"o-b COMPENSATED CANCELLED 12.00 SKU-1 x1 refunded 12.00 released cancelled " + t0.Local().Format(time.DateTime),
		"o-a COMPLETED CONFIRMED 29.50 SKU-1 x2, SKU-2 x1 captured 29.50 reserved created " + t0.Add(time.Minute).Local().Format(time.DateTime),
		"o-c IN_FLIGHT - - - captured 1.00 - - " + t0.Add(2*time.Minute).Local().Format(time.DateTime),
		"customer alice: 2 orders (1 confirmed, 1 cancelled), captured 41.50, refunded 12.00, spend 29.50",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("orders output:\n%s\nwant (spaces collapsed):\n%s", b.String(), strings.Join(want, "\n"))
	}
}

func TestWriteOrderView(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	stamp := func(d time.Duration) string { return t0.Add(d).Local().Format(timeFormat) }
	v := orderView{Order: orderFacts{Facts: readstore.Facts{OrderID: "o-b", SagaID: "order-o-b", CustomerID: "alice", Region: "eu",
		Items: []services.Item{{SKU: "SKU-1", Quantity: 1}}, Total: 1200, Status: "CANCELLED", Reason: "cancelled by the customer",
		Stock: "released", Lines: []services.StockLine{{SKU: "SKU-1", Quantity: 1, UnitPrice: 1200}}, Payment: "refunded", Amount: 1200,
		Shipment: "cancelled", Tracking: "TRK-9", Country: "DE", FirstEventAt: t0, LastEventAt: t0.Add(4 * time.Second)},
		Outcome: "COMPENSATED"},
		Timeline: []timelineEvent{
			{TimelineEntry: readstore.TimelineEntry{Source: "orders", Kind: "OrderCreated", OccurredAt: t0}, Summary: "alice eu SKU-1 x1, total 12.00"},
			{TimelineEntry: readstore.TimelineEntry{Source: "inventory", Kind: "StockReserved", OccurredAt: t0.Add(1500 * time.Millisecond)},
				Summary: "SKU-1 x1 @ 12.00"},
			{TimelineEntry: readstore.TimelineEntry{Source: "shipping", Kind: "ShipmentCancelled", OccurredAt: t0.Add(3 * time.Second)}},
		}}
	var b bytes.Buffer
	writeOrderView(&b, v)
	got := lines(b.String())
	want := []string{
		"order o-b (saga order-o-b)",
		"customer alice, region eu",
		"outcome COMPENSATED",
		"status CANCELLED: cancelled by the customer",
		"total 12.00 (SKU-1 x1)",
		"stock released: SKU-1 x1 @ 12.00",
		"payment refunded 12.00",
		"shipment cancelled (tracking TRK-9 to DE)",
		"events " + stamp(0) + " to " + stamp(4*time.Second),
		"TIME SERVICE EVENT DETAIL",
		stamp(0) + " orders OrderCreated alice eu SKU-1 x1, total 12.00",
		stamp(1500*time.Millisecond) + " inventory StockReserved SKU-1 x1 @ 12.00",
		stamp(3*time.Second) + " shipping ShipmentCancelled -",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("order output:\n%s\nwant (spaces collapsed):\n%s", b.String(), strings.Join(want, "\n"))
	}
}

func TestWriteReport(t *testing.T) {
	var b bytes.Buffer
	writeReport(&b, salesReport{
		SKUs: []skuLine{{SKU: "SKU-1", Reserved: 3, Sold: 2, Released: 1, RevenueCaptured: 3600, RevenueRefunded: 1200},
			{SKU: "SKU-2", Sold: 1, RevenueCaptured: 550}},
		Regions: []regionLine{{Region: "eu", Orders: 2, Reserved: 3, Sold: 3, Released: 1, RevenueCaptured: 4150, RevenueRefunded: 1200}},
	})
	want := []string{
		"SKU RESERVED SOLD RELEASED CAPTURED REFUNDED",
		"SKU-1 3 2 1 36.00 12.00",
		"SKU-2 0 1 0 5.50 0.00",
		"REGION ORDERS RESERVED SOLD RELEASED CAPTURED REFUNDED",
		"eu 2 3 3 1 41.50 12.00",
	}
	if got := lines(b.String()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("report output:\n%s\nwant (spaces collapsed):\n%s", b.String(), strings.Join(want, "\n"))
	}
	b.Reset()
	writeReport(&b, salesReport{})
	if got := b.String(); got != "the read store holds no order yet\n" {
		t.Errorf("empty report: %q", got)
	}
}

// runReadCommand runs the starter on args with cfg and returns its error.
func runReadCommand(t *testing.T, cfg config.Config, args ...string) (stdout string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{cfg: cfg, out: &out, errOut: &errOut}
	root := c.rootCommand()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.ExecuteContext(t.Context())
	return out.String(), err
}

func TestReadCommandsConfig(t *testing.T) {
	// A server that refuses connections, with a password that must not show.
	const secret = "s3cret-pw"
	closed := config.Config{ReportingURL: "postgres://reporting:" + secret + "@127.0.0.1:1/reporting?sslmode=disable"}

	// --customer is checked before anything connects.
	_, err := runReadCommand(t, closed, "orders")
	if err == nil || !strings.Contains(err.Error(), "--customer is required") {
		t.Errorf("orders without --customer: %v", err)
	}
	_, err = runReadCommand(t, closed, "orders", "--customer", "  ")
	if err == nil || !strings.Contains(err.Error(), "--customer is required") {
		t.Errorf("orders --customer '  ': %v", err)
	}

	for _, args := range [][]string{{"orders", "--customer", "alice"}, {"order", "o-1"}, {"report"}, {"report", "--json"}} {
		out, err := runReadCommand(t, config.Config{}, args...)
		if err == nil || !strings.Contains(err.Error(), config.EnvReportingURL+" not set") || !strings.Contains(err.Error(), "read store") {
			t.Errorf("%v without %s: %v", args, config.EnvReportingURL, err)
		}
		out2, err := runReadCommand(t, closed, args...)
		if err == nil || !strings.Contains(err.Error(), "read store unreachable") || !strings.Contains(err.Error(), "reporting database at 127.0.0.1:1") ||
			strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v on a closed port: %q; want one line naming the read store and 127.0.0.1:1, without the password", args, err)
		}
		if out != "" || out2 != "" {
			t.Errorf("%v printed %q / %q before failing", args, out, out2)
		}
	}

	malformed := config.Config{ReportingURL: "postgres://reporting:" + secret + "@%zz/reporting"}
	if _, err := runReadCommand(t, malformed, "report"); err == nil || !strings.Contains(err.Error(), config.EnvReportingURL+" is not a valid") ||
		strings.Contains(err.Error(), secret) {
		t.Errorf("malformed URL: %v", err)
	}
}

func TestFlatten(t *testing.T) {
	in := "failed to connect to `user=x database=r`:\n\t127.0.0.1:1 (localhost): refused\n\t[::1]:1 (localhost): refused"
	want := "failed to connect to `user=x database=r`: 127.0.0.1:1 (localhost): refused; [::1]:1 (localhost): refused"
	if got := flatten(in); got != want {
		t.Errorf("flatten = %q, want %q", got, want)
	}
}
