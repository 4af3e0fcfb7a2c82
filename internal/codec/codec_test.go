package codec_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/sagaflow/sagaflow/internal/codec"
)

func newCodec(t *testing.T, ids ...string) (*codec.Codec, *codec.Keyring) {
	t.Helper()
	var keys []codec.Key
	for _, id := range ids {
		k, err := codec.GenerateKey(id, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	r, err := codec.NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(r)
	if err != nil {
		t.Fatal(err)
	}
	return c, r
}

type secret struct {
	Street string
	Amount int64
}

func TestRoundTripHidesTheValue(t *testing.T) {
	c, _ := newCodec(t, "k1")
	dc := c.DataConverter()
	p, err := dc.ToPayload(secret{Street: "Rue Secrète 7", Amount: 9876543})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(p.GetMetadata()[converter.MetadataEncoding]); got != codec.Encoding {
		t.Errorf("encoding %q", got)
	}
	if got := string(p.GetMetadata()[codec.MetadataKeyID]); got != "k1" {
		t.Errorf("key id %q", got)
	}
	if bytes.Contains(p.GetData(), []byte("Secr")) || bytes.Contains(p.GetData(), []byte("9876543")) ||
		bytes.Contains(p.GetData(), []byte("json/plain")) {
		t.Error("ciphertext holds the plain text")
	}
	var back secret
	if err := dc.FromPayload(p, &back); err != nil {
		t.Fatal(err)
	}
	if back.Street != "Rue Secrète 7" || back.Amount != 9876543 {
		t.Errorf("decoded %+v", back)
	}
	// A fresh nonce each time: the same value never gives the same bytes.
	p2, _ := dc.ToPayload(secret{Street: "Rue Secrète 7", Amount: 9876543})
	if bytes.Equal(p.GetData(), p2.GetData()) {
		t.Error("two encryptions of one value are identical")
	}
}

func TestDecodeWithTheKeyThePayloadNames(t *testing.T) {
	oldCodec, oldRing := newCodec(t, "old")
	sealedOld, err := oldCodec.Encode([]*commonpb.Payload{{Data: []byte("written before the rotation")}})
	if err != nil {
		t.Fatal(err)
	}
	next, _ := codec.GenerateKey("new", time.Now())
	rotated, err := oldRing.Rotate(next)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(rotated)
	if err != nil {
		t.Fatal(err)
	}
	sealedNew, err := c.Encode([]*commonpb.Payload{{Data: []byte("written after")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(sealedNew[0].GetMetadata()[codec.MetadataKeyID]); got != "new" {
		t.Errorf("after rotation encrypted with %q", got)
	}
	plain, err := c.Decode([]*commonpb.Payload{sealedOld[0], sealedNew[0], {Data: []byte("never encrypted")}})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"written before the rotation", "written after", "never encrypted"} {
		if string(plain[i].GetData()) != want {
			t.Errorf("payload %d: %q", i, plain[i].GetData())
		}
	}
	// The old codec does not hold the new key: a clear error naming it.
	_, err = oldCodec.Decode(sealedNew)
	if !errors.Is(err, codec.ErrUnknownKey) || !strings.Contains(err.Error(), `"new"`) || !strings.Contains(err.Error(), "old") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestDecodeRefusesAlteredOrForeignCiphertext(t *testing.T) {
	c, _ := newCodec(t, "k1")
	other, _ := newCodec(t, "k1") // same id, other material
	sealed, _ := c.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	if _, err := other.Decode(sealed); err == nil || !strings.Contains(err.Error(), `key "k1"`) {
		t.Errorf("foreign key material: %v", err)
	}
	sealed[0].Data[len(sealed[0].Data)-1] ^= 1
	if _, err := c.Decode(sealed); err == nil {
		t.Error("altered ciphertext decrypted")
	}
	// The key id is bound to the ciphertext: relabelling it fails.
	c2, r2 := newCodec(t, "a")
	b, _ := codec.GenerateKey("b", time.Now())
	r2, _ = r2.Rotate(b)
	c2, _ = codec.New(r2)
	sealed, _ = c2.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	sealed[0].Metadata[codec.MetadataKeyID] = []byte("a")
	if _, err := c2.Decode(sealed); err == nil {
		t.Error("relabelled payload decrypted")
	}
}

// The failure converter encrypts messages too, and the saga's state in an
// error's details.
func TestFailureConverterEncryptsMessageAndDetails(t *testing.T) {
	c, _ := newCodec(t, "k1")
	dc := c.DataConverter()
	fc := codec.FailureConverter(dc)
	f := fc.ErrorToFailure(temporal.NewNonRetryableApplicationError("order o-1 to Rue Secrète 7 failed", "OrderCompensated", nil,
		secret{Street: "Rue Secrète 7", Amount: 9876543}))
	raw := f.String()
	if strings.Contains(raw, "Secr") || strings.Contains(raw, "9876543") {
		t.Errorf("failure holds plain text: %s", raw)
	}
	err := fc.FailureToError(f)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !strings.Contains(appErr.Error(), "Rue Secrète 7") || appErr.Type() != "OrderCompensated" {
		t.Fatalf("decoded %v", err)
	}
	var back secret
	if err := appErr.Details(&back); err != nil || back.Amount != 9876543 {
		t.Errorf("details %+v, %v", back, err)
	}
}
