package codec_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/internal/codec"
)

func b64(n int, fill byte) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(fill), n)))
}

func TestParseKeyringLines(t *testing.T) {
	data := "# comment\n\nnew=" + b64(32, 'a') + "\nold = " + b64(32, 'b') + "\n"
	r, err := codec.ParseKeyring([]byte(data), "keys.txt")
	if err != nil {
		t.Fatal(err)
	}
	if r.Current() != "new" || strings.Join(r.IDs(), ",") != "new,old" || r.Format() != codec.FormatLines {
		t.Errorf("current %q, ids %v, format %s", r.Current(), r.IDs(), r.Format())
	}
}

func TestParseKeyringJSON(t *testing.T) {
	data := `{"current": "k2", "keys": [{"id": "k1", "key": "` + b64(32, 'a') + `"}, {"id": "k2", "key": "` + b64(32, 'b') + `"}]}`
	r, err := codec.ParseKeyring([]byte(data), "keys.json")
	if err != nil {
		t.Fatal(err)
	}
	if r.Current() != "k2" || strings.Join(r.IDs(), ",") != "k2,k1" || r.Format() != codec.FormatJSON {
		t.Errorf("current %q, ids %v, format %s", r.Current(), r.IDs(), r.Format())
	}
	// Without "current", the first key is current.
	data = `{"keys": [{"id": "k1", "key": "` + b64(32, 'a') + `"}]}`
	if r, err = codec.ParseKeyring([]byte(data), "keys.json"); err != nil || r.Current() != "k1" {
		t.Errorf("got %v, %v", r, err)
	}
}

// Bad key material is refused with an error that names the key and the
// file, and never quotes the material.
func TestParseKeyringRefusesBadKeys(t *testing.T) {
	short := b64(16, 's')
	for name, tc := range map[string]struct{ data, want string }{
		"short":        {"k1=" + short, `keys in f: line 1: key "k1" is 16 bytes, want 32`},
		"not base64":   {"k1=%%%notbase64", `key "k1" is not standard base64`},
		"no equals":    {"justtext", "line 1: want id=base64key"},
		"bad id":       {"k 1=" + b64(32, 'a'), `key id "k 1"`},
		"duplicate":    {"k1=" + b64(32, 'a') + "\nk1=" + b64(32, 'b'), `key id "k1" appears twice`},
		"empty":        {"# nothing\n", "no key found"},
		"json current": {`{"current": "zz", "keys": [{"id": "k1", "key": "` + b64(32, 'a') + `"}]}`, `"current" names key "zz"`},
		"json field":   {`{"keys": [], "extra": 1}`, "malformed JSON"},
		"json short":   {`{"keys": [{"id": "k1", "key": "` + short + `"}]}`, `key #1: key "k1" is 16 bytes`},
	} {
		_, err := codec.ParseKeyring([]byte(tc.data), "f")
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q should say %q", name, err, tc.want)
		}
		if strings.Contains(err.Error(), short) {
			t.Errorf("%s: error quotes the key material: %q", name, err)
		}
	}
}

func TestLoadKeyringSources(t *testing.T) {
	k, err := codec.GenerateKey("", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.ID, "k20260601-") || len(k.Secret) != codec.KeySize {
		t.Errorf("generated %q, %d bytes", k.ID, len(k.Secret))
	}
	r, err := codec.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	body, err := r.Marshal(codec.FormatLines)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{codec.EnvKeyFile: file}
	src := codec.SourceFromEnv(func(k string) string { return env[k] })
	if got, err := codec.LoadKeyring(src); err != nil || got.Current() != k.ID {
		t.Errorf("from file: %v, %v", got, err)
	}
	if got, err := codec.LoadKeyring(codec.Source{Inline: string(body)}); err != nil || got.Current() != k.ID {
		t.Errorf("inline: %v, %v", got, err)
	}
	if _, err := codec.LoadKeyring(codec.Source{File: file, Inline: string(body)}); err == nil || !strings.Contains(err.Error(), "set one") {
		t.Errorf("both: %v", err)
	}
	if _, err := codec.LoadKeyring(codec.Source{}); err == nil || !strings.Contains(err.Error(), "genkey") {
		t.Errorf("none: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := codec.LoadKeyring(codec.Source{File: missing}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
}

func TestRotateKeepsOldKeysInTheFileFormat(t *testing.T) {
	old, _ := codec.GenerateKey("old", time.Now())
	next, _ := codec.GenerateKey("new", time.Now())
	r, _ := codec.NewKeyring(old)
	body, _ := r.Marshal(codec.FormatJSON)
	r, err := codec.ParseKeyring(body, "keys.json")
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := r.Rotate(next)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Current() != "new" || strings.Join(rotated.IDs(), ",") != "new,old" || rotated.Format() != codec.FormatJSON {
		t.Errorf("rotated: current %q, ids %v, format %s", rotated.Current(), rotated.IDs(), rotated.Format())
	}
	if _, err := rotated.Rotate(old); err == nil {
		t.Error("rotating in an id already present was accepted")
	}
}

func TestPrintingHidesKeyMaterial(t *testing.T) {
	k, _ := codec.GenerateKey("k1", time.Now())
	r, _ := codec.NewKeyring(k)
	enc := base64.StdEncoding.EncodeToString(k.Secret)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", k, k, k, k), fmt.Sprintf("%v %+v %#v %s", r, r, r, r)} {
		if strings.Contains(s, enc) || strings.Contains(s, fmt.Sprint(k.Secret)) || !strings.Contains(s, "k1") {
			t.Errorf("printed: %s", s)
		}
	}
}
