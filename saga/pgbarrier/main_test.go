package pgbarrier_test

import (
	"os"
	"testing"

	"github.com/sagaflow/sagaflow/saga/internal/storetest"
)

// TestMain gives the tests and the example a schema of their own.
func TestMain(m *testing.M) { os.Exit(storetest.MainPostgres(m)) }
