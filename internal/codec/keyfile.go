package codec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// CreateKeyFile writes a new key file at path holding one new key (named
// id, or a generated id when empty) in format. It refuses to overwrite an
// existing file. The file is readable by its owner only.
func CreateKeyFile(path, id, format string, now time.Time) (Key, error) {
	k, err := GenerateKey(id, now)
	if err != nil {
		return Key{}, err
	}
	r, err := NewKeyring(k)
	if err != nil {
		return Key{}, err
	}
	body, err := r.Marshal(format)
	if err != nil {
		return Key{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return Key{}, fmt.Errorf("key file %s exists: rotate it with --rotate, or choose another path", path)
	}
	if err != nil {
		return Key{}, fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		return Key{}, fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return Key{}, fmt.Errorf("write key file %s: %w", path, err)
	}
	return k, nil
}

// RotateKeyFile adds a new key (named id, or a generated id when empty) to
// the key file at path and makes it current, keeping every other key so
// that payloads they sealed still decrypt. The file keeps its format and is
// replaced atomically, readable by its owner only.
func RotateKeyFile(path, id string, now time.Time) (Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Key{}, fmt.Errorf("read key file: %w", err)
	}
	r, err := ParseKeyring(data, path)
	if err != nil {
		return Key{}, err
	}
	k, err := GenerateKey(id, now)
	if err != nil {
		return Key{}, err
	}
	next, err := r.Rotate(k)
	if err != nil {
		return Key{}, err
	}
	body, err := next.Marshal(next.Format())
	if err != nil {
		return Key{}, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return Key{}, fmt.Errorf("rotate key file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing left to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return Key{}, fmt.Errorf("rotate key file: %w", err)
	}
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return Key{}, fmt.Errorf("rotate key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Key{}, fmt.Errorf("rotate key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return Key{}, fmt.Errorf("rotate key file: %w", err)
	}
	return k, nil
}
