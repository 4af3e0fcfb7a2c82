package invariants

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/payments"
)

// streams returns receivers over reservations and payments of the saga
// ids given, in batches of two.
func streams(res, pay []string) (*receiver[inventory.Reservation], *receiver[payments.Payment]) {
	resCh, payCh := make(chan []inventory.Reservation, len(res)), make(chan []payments.Payment, len(pay))
	for i := 0; i < len(res); i += 2 {
		var b []inventory.Reservation
		for _, id := range res[i:min(i+2, len(res))] {
			b = append(b, inventory.Reservation{SagaID: id})
		}
		resCh <- b
	}
	for i := 0; i < len(pay); i += 2 {
		var b []payments.Payment
		for _, id := range pay[i:min(i+2, len(pay))] {
			b = append(b, payments.Payment{SagaID: id})
		}
		payCh <- b
	}
	close(resCh)
	close(payCh)
	return newReceiver(resCh, "reservations", func(r inventory.Reservation) string { return r.SagaID }),
		newReceiver(payCh, "payments", func(p payments.Payment) string { return p.SagaID })
}

func TestMergeVisitsEverySagaOnceInOrder(t *testing.T) {
	res, pay := streams([]string{"a", "b", "d", "f", "g"}, []string{"b", "c", "d", "e", "h", "i"})
	var got []string
	err := merge(res, pay, func(id string, r *inventory.Reservation, p *payments.Payment) error {
		got = append(got, fmt.Sprintf("%s:%t%t", id, r != nil, p != nil))
		return nil
	})
	want := "a:truefalse b:truetrue c:falsetrue d:truetrue e:falsetrue f:truefalse g:truefalse h:falsetrue i:falsetrue"
	if err != nil || strings.Join(got, " ") != want {
		t.Fatalf("merge: %v, %v; want %s", got, err, want)
	}
}

func TestMergeRefusesAStreamOutOfOrder(t *testing.T) {
	for _, c := range [][2][]string{
		{{"a", "c", "b"}, {"a"}},
		{{"a"}, {"b", "b"}},
	} {
		res, pay := streams(c[0], c[1])
		err := merge(res, pay, func(string, *inventory.Reservation, *payments.Payment) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "not in saga id order") {
			t.Errorf("%v: %v; want an order error", c, err)
		}
	}
}

func TestMergeStopsAtTheFirstError(t *testing.T) {
	res, pay := streams([]string{"a", "b", "c"}, nil)
	n := 0
	err := merge(res, pay, func(string, *inventory.Reservation, *payments.Payment) error {
		n++
		return fmt.Errorf("stop")
	})
	if err == nil || n != 1 {
		t.Fatalf("visits %d, error %v", n, err)
	}
}

func TestItemsDigestIgnoresOrderAndSeesEveryLine(t *testing.T) {
	item := func(sku string, q int64) services.Item { return services.Item{SKU: sku, Quantity: q} }
	ab := []services.Item{item("A", 1), item("B", 2)}
	if itemsDigest(ab) != itemsDigest([]services.Item{item("B", 2), item("A", 1)}) {
		t.Error("the same lines in another order differ")
	}
	for _, other := range [][]services.Item{
		nil,
		{item("A", 1)},
		{item("A", 1), item("B", 3)},
		{item("A", 1), item("C", 2)},
		{item("A", 1), item("B", 2), item("B", 2)},
		{item("AB", 1), item("", 2)},
	} {
		if itemsDigest(other) == itemsDigest(ab) {
			t.Errorf("%v has the digest of %v", other, ab)
		}
	}
}
