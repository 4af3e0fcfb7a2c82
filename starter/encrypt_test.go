package main

import (
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/sagaflow/sagaflow/internal/codec"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
)

// With --encrypt, the memo that tells a new saga from an existing one is
// encrypted: the starter must read it with its own data converter.
func TestMemoReadWithTheClientsConverter(t *testing.T) {
	k, err := codec.GenerateKey("k1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r, _ := codec.NewKeyring(k)
	keys, _ := r.Marshal(codec.FormatLines)
	var opts temporalclient.Options
	if _, err := (codec.Settings{Enabled: true, Keys: codec.Source{Inline: string(keys)}}).Apply(&opts); err != nil {
		t.Fatal(err)
	}
	p, err := opts.DataConverter.ToPayload("token-123")
	if err != nil {
		t.Fatal(err)
	}
	memo := &commonpb.Memo{Fields: map[string]*commonpb.Payload{memoStartToken: p}}
	if got := memoString(opts.DataConverter, memo, memoStartToken); got != "token-123" {
		t.Errorf("with the key: %q", got)
	}
	if got := memoString(nil, memo, memoStartToken); got != "" {
		t.Errorf("without the key: %q", got)
	}
}

// --encrypt without a key is an error before anything is dialed.
func TestEncryptWithoutKeys(t *testing.T) {
	var out, errOut strings.Builder
	c := &cli{out: &out, errOut: &errOut}
	root := c.rootCommand()
	root.SetArgs([]string{"status", "o-1", "--encrypt"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "genkey") {
		t.Errorf("got %v", err)
	}
}
