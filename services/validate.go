package services

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on identifiers and numbers. They keep every value a store will
// accept and every sum within int64.
const (
	// MaxIDLength is the longest identifier accepted, in bytes.
	MaxIDLength = 64
	// MaxSagaIDLength is the longest saga id accepted, in bytes. A saga id
	// is built from an order id: "order-<order id>" (at most 70 bytes), or
	// "order-<order id>/<first run id>" (a 36-byte UUID: at most 107).
	MaxSagaIDLength = 128
	// MaxQuantity is the largest quantity of one SKU in one order.
	MaxQuantity = 1_000_000
	// MaxItems is the largest number of distinct SKUs in one order.
	MaxItems = 100
	// MaxAmount is the largest amount of money, in minor units (cents), that
	// one order, price or account may hold: ten billion units of currency.
	MaxAmount = 1_000_000_000_000
)

// Invalid returns a business error of code INVALID_INPUT that names the field.
func Invalid(field, problem string) error {
	return fmt.Errorf("%s %s: %w", field, problem, ErrInvalidInput)
}

// ValidateID checks an identifier (order, customer, SKU, saga id): not empty,
// at most MaxIDLength bytes, valid UTF-8, and free of NUL, '$', '.',
// whitespace and control characters, which MongoDB field paths and logs
// would misread.
func ValidateID(field, id string) error {
	return validateID(field, id, MaxIDLength)
}

// ValidateSagaID checks a saga id as ValidateID checks an identifier, but
// allows up to MaxSagaIDLength bytes: a saga id holds an order id and more
// ("order-o1", "order-o1/2f1e6c3a-...", '/' included). The stores keep it
// as a value (text columns, the saga.id field of a document), never in a
// field name or a key length limit.
func ValidateSagaID(field, id string) error {
	return validateID(field, id, MaxSagaIDLength)
}

func validateID(field, id string, maxLen int) error {
	switch {
	case id == "":
		return Invalid(field, "is empty")
	case len(id) > maxLen:
		return Invalid(field, fmt.Sprintf("is %d bytes long, more than %d", len(id), maxLen))
	case !utf8.ValidString(id):
		return Invalid(field, "is not valid UTF-8")
	case strings.ContainsRune(id, 0):
		return Invalid(field, "contains a NUL byte")
	case strings.ContainsRune(id, '$'):
		return Invalid(field, "contains '$'")
	case strings.ContainsRune(id, '.'):
		return Invalid(field, "contains '.'")
	}
	for _, r := range id {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return Invalid(field, fmt.Sprintf("contains the character %q", r))
		}
	}
	return nil
}

// ValidateQuantity checks that 0 < q <= MaxQuantity.
func ValidateQuantity(field string, q int64) error {
	if q <= 0 {
		return Invalid(field, fmt.Sprintf("is %d, must be positive", q))
	}
	if q > MaxQuantity {
		return Invalid(field, fmt.Sprintf("is %d, more than the limit of %d", q, MaxQuantity))
	}
	return nil
}

// ValidateAmount checks that 0 < a <= MaxAmount (minor units).
func ValidateAmount(field string, a int64) error {
	if a <= 0 {
		return Invalid(field, fmt.Sprintf("is %d, must be positive", a))
	}
	if a > MaxAmount {
		return Invalid(field, fmt.Sprintf("is %d, more than the limit of %d", a, MaxAmount))
	}
	return nil
}

// MulAmount returns a*b, or an error naming field when the product leaves
// the range (0, MaxAmount].
func MulAmount(field string, a, b int64) (int64, error) {
	if a <= 0 || b <= 0 {
		return 0, Invalid(field, "must be positive")
	}
	if a > math.MaxInt64/b || a*b > MaxAmount {
		return 0, Invalid(field, fmt.Sprintf("overflows: %d x %d is more than the limit of %d", a, b, MaxAmount))
	}
	return a * b, nil
}

// AddAmount returns a+b, or an error naming field when the sum passes MaxAmount.
func AddAmount(field string, a, b int64) (int64, error) {
	if a < 0 || b < 0 {
		return 0, Invalid(field, "must not be negative")
	}
	if a > MaxAmount-b {
		return 0, Invalid(field, fmt.Sprintf("overflows: %d + %d is more than the limit of %d", a, b, MaxAmount))
	}
	return a + b, nil
}

// validatePrintable rejects invalid UTF-8, NUL and control characters.
func validatePrintable(field, s string) error {
	if !utf8.ValidString(s) {
		return Invalid(field, "is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return Invalid(field, fmt.Sprintf("contains the control character %q", r))
		}
	}
	return nil
}

// ValidateStepIDs checks the two ids every saga step carries.
func ValidateStepIDs(sagaID, orderID string) error {
	if err := ValidateSagaID("saga_id", sagaID); err != nil {
		return err
	}
	return ValidateID("order_id", orderID)
}
