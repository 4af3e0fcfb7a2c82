package mongobarrier_test

import (
	"os"
	"testing"

	"github.com/sagaflow/sagaflow/saga/internal/storetest"
)

// exampleDB is the database the example works in, dropped before and after
// the package's tests.
const exampleDB = "mongobarrier_example"

// TestMain gives the example an empty database.
func TestMain(m *testing.M) { os.Exit(storetest.MainMongo(m, exampleDB)) }
