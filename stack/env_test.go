package main

import (
	"strings"
	"testing"

	"github.com/sagaflow/sagaflow/config"
)

func TestPrintLibraryEnvNamesTheEnginesVariables(t *testing.T) {
	c := config.Config{InventoryURL: "postgres://i@h/inventory", PaymentsURL: "postgres://p@h/payments",
		MongoURI: "mongodb://h/", TemporalAddress: "h:7233", TemporalNamespace: "default"}
	var out strings.Builder
	if err := printLibraryEnv(&out, c); err != nil {
		t.Fatal(err)
	}
	want := "DATABASE_URL=postgres://i@h/inventory\nMONGO_URI=mongodb://h/\nTEMPORAL_ADDRESS=h:7233\nTEMPORAL_NAMESPACE=default\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	c.MongoURI = ""
	out.Reset()
	if err := printLibraryEnv(&out, c); err == nil || !strings.Contains(err.Error(), config.EnvMongoURI) || out.Len() != 0 {
		t.Errorf("without MongoDB: %v, printed %q; want an error naming %s and nothing printed", err, out.String(), config.EnvMongoURI)
	}
}
