package codec

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// KeySize is the length of a key in bytes: AES-256.
const KeySize = 32

// Environment variables that hold the keys (read in main, passed in as a
// Source).
const (
	// EnvKeys holds a key file's content itself.
	EnvKeys = "SAGAFLOW_CODEC_KEYS"
	// EnvKeyFile names a key file.
	EnvKeyFile = "SAGAFLOW_CODEC_KEY_FILE"
)

// Key file formats.
const (
	// FormatLines is one "id=base64key" line per key, the current key first;
	// blank lines and lines starting with # are ignored.
	FormatLines = "lines"
	// FormatJSON is {"current": "id", "keys": [{"id": "id", "key": "base64key"}, ...]};
	// "current" is optional and defaults to the first key.
	FormatJSON = "json"
)

// Key is one AES-256 key and the id that payloads encrypted with it carry.
type Key struct {
	// ID names the key in the metadata of every payload it encrypts; it is
	// not secret.
	ID string
	// Secret is the key material, KeySize bytes.
	Secret []byte
}

// String names the key and hides its material, so that printing a key
// never leaks it.
func (k Key) String() string { return fmt.Sprintf("key %q (%d bytes, hidden)", k.ID, len(k.Secret)) }

// GoString is String, for %#v.
func (k Key) GoString() string { return k.String() }

// Keyring holds the keys a codec decrypts with; the current one encrypts.
type Keyring struct {
	keys    []Key
	current int
	// format is the format the keyring was parsed from (FormatLines by default).
	format string
}

// NewKeyring returns a keyring of keys, the first being current. It checks
// every id and key as ParseKeyring does.
func NewKeyring(keys ...Key) (*Keyring, error) {
	r := &Keyring{format: FormatLines}
	for _, k := range keys {
		if err := r.add(k, "keyring"); err != nil {
			return nil, err
		}
	}
	if len(r.keys) == 0 {
		return nil, errors.New("keyring: no key")
	}
	return r, nil
}

// String names the keys and hides their material.
func (r *Keyring) String() string {
	return fmt.Sprintf("keyring (current %s; keys %s)", r.Current(), strings.Join(r.IDs(), ", "))
}

// GoString is String, for %#v.
func (r *Keyring) GoString() string { return r.String() }

// Current returns the id of the key that encrypts.
func (r *Keyring) Current() string { return r.keys[r.current].ID }

// IDs returns the ids of every key, the current one first.
func (r *Keyring) IDs() []string {
	ids := []string{r.keys[r.current].ID}
	for i, k := range r.keys {
		if i != r.current {
			ids = append(ids, k.ID)
		}
	}
	return ids
}

// Keys returns a copy of the keys, the current one first.
func (r *Keyring) Keys() []Key {
	cp := func(k Key) Key { return Key{ID: k.ID, Secret: append([]byte(nil), k.Secret...)} }
	out := []Key{cp(r.keys[r.current])}
	for i, k := range r.keys {
		if i != r.current {
			out = append(out, cp(k))
		}
	}
	return out
}

// Rotate returns a keyring in which k is current and every key of r is kept,
// so that payloads encrypted before the rotation still decrypt.
func (r *Keyring) Rotate(k Key) (*Keyring, error) {
	next, err := NewKeyring(append([]Key{k}, r.Keys()...)...)
	if err != nil {
		return nil, err
	}
	next.format = r.format
	return next, nil
}

// Format returns the format r was parsed from, FormatLines for a new one.
func (r *Keyring) Format() string { return r.format }

// Marshal writes r in format (FormatLines or FormatJSON), the current key
// first.
func (r *Keyring) Marshal(format string) ([]byte, error) {
	keys := r.Keys()
	switch format {
	case FormatLines:
		var b bytes.Buffer
		b.WriteString("# sagaflow payload encryption keys: id=base64(32 bytes), one per line.\n")
		b.WriteString("# The first key encrypts; every key decrypts. Keep old keys while histories use them.\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%s\n", k.ID, base64.StdEncoding.EncodeToString(k.Secret))
		}
		return b.Bytes(), nil
	case FormatJSON:
		f := jsonFile{Current: r.Current()}
		for _, k := range keys {
			f.Keys = append(f.Keys, jsonKey{ID: k.ID, Key: base64.StdEncoding.EncodeToString(k.Secret)})
		}
		body, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("marshal keyring: %w", err)
		}
		return append(body, '\n'), nil
	}
	return nil, fmt.Errorf("unknown key file format %q: want %s or %s", format, FormatLines, FormatJSON)
}

type jsonFile struct {
	Current string    `json:"current,omitempty"`
	Keys    []jsonKey `json:"keys"`
}

type jsonKey struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// ParseKeyring parses a key file's content in either format (JSON when it
// starts with "{"). origin names where data came from (a file, an
// environment variable) in errors; errors never quote key material.
func ParseKeyring(data []byte, origin string) (*Keyring, error) {
	trimmed := bytes.TrimSpace(data)
	if bytes.HasPrefix(trimmed, []byte("{")) {
		return parseJSON(trimmed, origin)
	}
	return parseLines(trimmed, origin)
}

func parseLines(data []byte, origin string) (*Keyring, error) {
	r := &Keyring{format: FormatLines}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, enc, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("keys in %s: line %d: want id=base64key", origin, i+1)
		}
		k, err := decodeKey(strings.TrimSpace(id), strings.TrimSpace(enc), fmt.Sprintf("%s: line %d", origin, i+1))
		if err != nil {
			return nil, err
		}
		if err := r.add(k, origin); err != nil {
			return nil, err
		}
	}
	if len(r.keys) == 0 {
		return nil, fmt.Errorf("keys in %s: no key found; generate one with `go run ./codecserver genkey`", origin)
	}
	return r, nil
}

func parseJSON(data []byte, origin string) (*Keyring, error) {
	var f jsonFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		// encoding/json's messages name offsets and types, never values.
		return nil, fmt.Errorf("keys in %s: malformed JSON: %w", origin, err)
	}
	r := &Keyring{format: FormatJSON}
	for i, jk := range f.Keys {
		k, err := decodeKey(jk.ID, jk.Key, fmt.Sprintf("%s: key #%d", origin, i+1))
		if err != nil {
			return nil, err
		}
		if err := r.add(k, origin); err != nil {
			return nil, err
		}
	}
	if len(r.keys) == 0 {
		return nil, fmt.Errorf("keys in %s: \"keys\" is empty; generate one with `go run ./codecserver genkey`", origin)
	}
	if f.Current != "" {
		found := false
		for i, k := range r.keys {
			if k.ID == f.Current {
				r.current, found = i, true
			}
		}
		if !found {
			return nil, fmt.Errorf("keys in %s: \"current\" names key %q, which is not among the keys", origin, f.Current)
		}
	}
	return r, nil
}

// decodeKey checks an id and decodes its base64 key material.
func decodeKey(id, enc, where string) (Key, error) {
	if err := checkID(id); err != nil {
		return Key{}, fmt.Errorf("keys in %s: %w", where, err)
	}
	secret, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		// The decoder's message quotes no input, only an offset.
		return Key{}, fmt.Errorf("keys in %s: key %q is not standard base64: %w", where, id, err)
	}
	if len(secret) != KeySize {
		return Key{}, fmt.Errorf("keys in %s: key %q is %d bytes, want %d (AES-256); generate one with `go run ./codecserver genkey`",
			where, id, len(secret), KeySize)
	}
	return Key{ID: id, Secret: secret}, nil
}

func (r *Keyring) add(k Key, origin string) error {
	if err := checkID(k.ID); err != nil {
		return fmt.Errorf("keys in %s: %w", origin, err)
	}
	if len(k.Secret) != KeySize {
		return fmt.Errorf("keys in %s: key %q is %d bytes, want %d (AES-256)", origin, k.ID, len(k.Secret), KeySize)
	}
	for _, have := range r.keys {
		if have.ID == k.ID {
			return fmt.Errorf("keys in %s: key id %q appears twice", origin, k.ID)
		}
	}
	r.keys = append(r.keys, Key{ID: k.ID, Secret: append([]byte(nil), k.Secret...)})
	return nil
}

// checkID accepts 1 to 64 characters of letters, digits, '.', '_' and '-'.
func checkID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("key id %q: want 1 to 64 characters", id)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("key id %q: want only letters, digits, '.', '_' and '-'", id)
		}
	}
	return nil
}

// GenerateKey returns a new random key named id; an empty id is replaced by
// one made of the date and a random suffix, such as k20260601-3fa2.
func GenerateKey(id string, now time.Time) (Key, error) {
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, fmt.Errorf("generate key: %w", err)
	}
	if id == "" {
		var suffix [2]byte
		if _, err := rand.Read(suffix[:]); err != nil {
			return Key{}, fmt.Errorf("generate key id: %w", err)
		}
		id = "k" + now.UTC().Format("20060102") + "-" + hex.EncodeToString(suffix[:])
	}
	if err := checkID(id); err != nil {
		return Key{}, fmt.Errorf("generate key: %w", err)
	}
	return Key{ID: id, Secret: secret}, nil
}

// Source says where the keys are: a key file, or a key file's content
// held in an environment variable. Exactly one must be set.
type Source struct {
	// File is the path of a key file (--codec-key-file, SAGAFLOW_CODEC_KEY_FILE).
	File string
	// Inline is a key file's content (SAGAFLOW_CODEC_KEYS).
	Inline string
}

// SourceFromEnv reads SAGAFLOW_CODEC_KEY_FILE and SAGAFLOW_CODEC_KEYS
// through getenv.
func SourceFromEnv(getenv func(string) string) Source {
	return Source{File: getenv(EnvKeyFile), Inline: getenv(EnvKeys)}
}

// LoadKeyring reads the keys that src names.
func LoadKeyring(src Source) (*Keyring, error) {
	switch {
	case src.File != "" && src.Inline != "":
		return nil, fmt.Errorf("keys given twice, as the file %s and in %s: set one", src.File, EnvKeys)
	case src.File != "":
		data, err := os.ReadFile(src.File)
		if err != nil {
			return nil, fmt.Errorf("read key file: %w", err)
		}
		return ParseKeyring(data, src.File)
	case src.Inline != "":
		return ParseKeyring([]byte(src.Inline), EnvKeys)
	}
	return nil, fmt.Errorf("no encryption key given: set --codec-key-file (or %s) to a key file, or %s to its content; "+
		"generate one with `go run ./codecserver genkey --out <file>`", EnvKeyFile, EnvKeys)
}
