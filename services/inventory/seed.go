package inventory

import (
	"context"
	"fmt"

	"github.com/sagaflow/sagaflow/services"
)

// Stock is the initial stock of one SKU, for seeding.
type Stock struct {
	SKU       string
	UnitPrice int64
	Quantity  int64
}

// Seed creates the SKUs that do not exist yet with their stock; existing
// SKUs are left as they are, so seeding twice changes nothing. It returns
// how many SKUs it created.
func (s *Service) Seed(ctx context.Context, stock []Stock) (int, error) {
	for i, st := range stock {
		field := fmt.Sprintf("stock[%d]", i)
		if err := services.ValidateID(field+".sku", st.SKU); err != nil {
			return 0, err
		}
		if err := services.ValidateAmount(field+".unit_price", st.UnitPrice); err != nil {
			return 0, err
		}
		if st.Quantity < 0 || st.Quantity > services.MaxAmount {
			return 0, services.Invalid(field+".quantity", fmt.Sprintf("is %d, want 0 to %d", st.Quantity, int64(services.MaxAmount)))
		}
	}
	created := 0
	for _, st := range stock {
		tag, err := s.pool.Exec(ctx,
			`INSERT INTO stock (sku, unit_price, total, available, reserved) VALUES ($1, $2, $3, $3, 0)
			 ON CONFLICT (sku) DO NOTHING`, st.SKU, st.UnitPrice, st.Quantity)
		if err != nil {
			return created, fmt.Errorf("seed %s: %w", st.SKU, err)
		}
		created += int(tag.RowsAffected())
	}
	return created, nil
}
