package codec

import (
	"fmt"
	"strconv"

	"github.com/sagaflow/sagaflow/internal/temporalclient"
)

// EnvEncrypt turns payload encryption on ("true") in the worker and the
// starter; off by default.
const EnvEncrypt = "SAGAFLOW_ENCRYPT"

// Settings are a binary's encryption settings (--encrypt, --codec-key-file).
type Settings struct {
	// Enabled turns encryption on.
	Enabled bool
	// Keys say where the keys are.
	Keys Source
}

// SettingsFromEnv reads SAGAFLOW_ENCRYPT (a boolean; unset is false) and
// the key source through getenv: the defaults of the flags.
func SettingsFromEnv(getenv func(string) string) (Settings, error) {
	s := Settings{Keys: SourceFromEnv(getenv)}
	if raw := getenv(EnvEncrypt); raw != "" {
		on, err := strconv.ParseBool(raw)
		if err != nil {
			return s, fmt.Errorf("%s=%q: want true or false", EnvEncrypt, raw)
		}
		s.Enabled = on
	}
	return s, nil
}

// Apply sets, when encryption is on, the data converter that encrypts every
// payload and the failure converter that encrypts failure messages too, on
// opts. It returns the keyring, nil when encryption is off.
func (s Settings) Apply(opts *temporalclient.Options) (*Keyring, error) {
	if !s.Enabled {
		return nil, nil
	}
	ring, err := LoadKeyring(s.Keys)
	if err != nil {
		return nil, fmt.Errorf("payload encryption: %w", err)
	}
	c, err := New(ring)
	if err != nil {
		return nil, fmt.Errorf("payload encryption: %w", err)
	}
	opts.DataConverter = c.DataConverter()
	opts.FailureConverter = FailureConverter(opts.DataConverter)
	return ring, nil
}
