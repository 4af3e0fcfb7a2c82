// Package codec encrypts Temporal payloads: a converter.PayloadCodec that
// seals every payload with AES-256-GCM under the current key of a Keyring
// and opens it with whichever key the payload names, so keys can rotate.
//
// An encrypted payload carries, in clear, only its metadata:
//
//	encoding:          binary/encrypted
//	encryption-cipher: AES-256-GCM
//	encryption-key-id: <the id of the key that sealed it>
//
// and its data is a random 12-byte nonce followed by the sealed bytes of
// the original payload (metadata included). The key id is bound to the
// ciphertext as additional data. Payloads without that encoding pass
// through Decode unchanged, so a worker that turns encryption on still
// reads what was written before.
//
// Search attributes never go through a codec: they stay readable by the
// server, which indexes them.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Metadata keys and values of an encrypted payload.
const (
	// Encoding is the value of the "encoding" metadata of an encrypted payload.
	Encoding = "binary/encrypted"
	// MetadataKeyID names the key that sealed the payload.
	MetadataKeyID = "encryption-key-id"
	// MetadataCipher names the cipher.
	MetadataCipher = "encryption-cipher"
	// Cipher is the only cipher this codec writes and reads.
	Cipher = "AES-256-GCM"
)

// nonceSize is GCM's standard nonce length.
const nonceSize = 12

// ErrUnknownKey is the error for a payload sealed with a key that the
// keyring does not hold.
var ErrUnknownKey = errors.New("payload encrypted with a key that is not in the keyring")

// Codec is a converter.PayloadCodec that encrypts with AES-256-GCM. It is
// safe for concurrent use.
type Codec struct {
	current string
	aeads   map[string]cipher.AEAD
	ids     []string
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec over the keys of r.
func New(r *Keyring) (*Codec, error) {
	c := &Codec{current: r.Current(), aeads: map[string]cipher.AEAD{}, ids: r.IDs()}
	for _, k := range r.Keys() {
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
	}
	return c, nil
}

// CurrentKey returns the id of the key that Encode seals with.
func (c *Codec) CurrentKey() string { return c.current }

// additionalData binds a ciphertext to the id of its key.
func additionalData(keyID string) []byte { return []byte("sagaflow-payload/v1:" + keyID) }

// Encode seals each payload with the current key. A payload that is
// already encrypted is left as it is.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if isEncrypted(p) {
			out[i] = p
			continue
		}
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("encrypt payload: marshal: %w", err)
		}
		sealed := make([]byte, nonceSize, nonceSize+len(plain)+aead.Overhead())
		if _, err := rand.Read(sealed); err != nil {
			return payloads, fmt.Errorf("encrypt payload: nonce: %w", err)
		}
		sealed = aead.Seal(sealed, sealed[:nonceSize], plain, additionalData(c.current))
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataCipher:             []byte(Cipher),
				MetadataKeyID:              []byte(c.current),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode opens each encrypted payload with the key it names; other
// payloads pass through. A payload naming a key the keyring lacks is
// ErrUnknownKey, and the error names that key.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if !isEncrypted(p) {
			out[i] = p
			continue
		}
		plain, err := c.open(p)
		if err != nil {
			return payloads, err
		}
		out[i] = &commonpb.Payload{}
		if err := proto.Unmarshal(plain, out[i]); err != nil {
			return payloads, fmt.Errorf("decrypt payload: unmarshal: %w", err)
		}
	}
	return out, nil
}

func (c *Codec) open(p *commonpb.Payload) ([]byte, error) {
	id := string(p.GetMetadata()[MetadataKeyID])
	if id == "" {
		return nil, fmt.Errorf("decrypt payload: it has no %s metadata", MetadataKeyID)
	}
	if ci, ok := p.GetMetadata()[MetadataCipher]; ok && string(ci) != Cipher {
		return nil, fmt.Errorf("decrypt payload: cipher %q is not supported (want %s)", ci, Cipher)
	}
	aead, ok := c.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w: it names key %q, the keyring holds %s; add that key to the key file",
			ErrUnknownKey, id, strings.Join(c.ids, ", "))
	}
	data := p.GetData()
	if len(data) < nonceSize+aead.Overhead() {
		return nil, fmt.Errorf("decrypt payload with key %q: %d bytes is too short to be a sealed payload", id, len(data))
	}
	plain, err := aead.Open(nil, data[:nonceSize], data[nonceSize:], additionalData(id))
	if err != nil {
		return nil, fmt.Errorf("decrypt payload with key %q: %w (the key file's material for %q differs from the one that sealed it, or the payload was altered)",
			id, err, id)
	}
	return plain, nil
}

func isEncrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == Encoding
}

// DataConverter returns the SDK's default data converter with c applied to
// every payload it writes and reads.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter returns the SDK's default failure converter over dc,
// with failure messages and stack traces moved into an encoded payload, so
// that they are encrypted too (the Web UI shows "Encoded failure" without
// the codec server).
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
}
