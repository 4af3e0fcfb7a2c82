package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/sagaflow/sagaflow/services"
)

// BadIDs are identifiers every service must refuse, by the problem each has.
func BadIDs() map[string]string {
	return map[string]string{
		"is empty":               "",
		"bytes long":             strings.Repeat("x", 65),
		"contains '$'":           "ab$cd",
		"contains '.'":           "ab.cd",
		"contains a NUL":         "ab\x00cd",
		"is not valid UTF-8":     "ab\xffcd",
		"contains the character": "ab cd",
	}
}

// BadSagaIDs are saga ids every service must refuse, by the problem each
// has: BadIDs, but too long only past services.MaxSagaIDLength (a saga id
// holds an order id and a run id).
func BadSagaIDs() map[string]string {
	ids := BadIDs()
	ids["bytes long"] = strings.Repeat("x", services.MaxSagaIDLength+1)
	return ids
}

// SagaIDPerRun returns a saga id of the form an order saga uses since it
// takes the run chain's first run id: "order-<order id>/<run id>", the run
// id a random UUID, so each call gives another saga of the same order.
func SagaIDPerRun(orderID string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b[:])
	return "order-" + orderID + "/" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
