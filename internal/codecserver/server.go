// Package codecserver serves a payload codec over HTTP in the protocol that
// the Temporal Web UI and CLI speak (a "codec server"): POST /encode and
// /decode, also under a namespace segment (/{namespace}/decode, the form
// the CLI's --codec-endpoint templating uses), each taking and returning
// {"payloads": [...]} with payloads in their protobuf JSON form. The
// protocol itself is go.temporal.io/sdk/converter.NewPayloadCodecHTTPHandler;
// this package adds CORS for the Web UI, an optional bearer token, and
// limits.
package codecserver

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"go.temporal.io/sdk/converter"
)

// DefaultCORSOrigins are the origins of the local dev server's Web UI.
var DefaultCORSOrigins = []string{"http://127.0.0.1:8233", "http://localhost:8233"}

// DefaultListen is where the codec server listens unless told otherwise:
// loopback only.
const DefaultListen = "127.0.0.1:8234"

// maxBody bounds a request body (a Web UI page decodes many payloads at once).
const maxBody = 32 << 20

// Options configure the handler.
type Options struct {
	// Codec encodes and decodes the payloads.
	Codec converter.PayloadCodec
	// CORSOrigins are the browser origins allowed to call the server (the
	// Web UI's); "*" allows any origin. Empty: no CORS headers at all.
	CORSOrigins []string
	// Token, when set, must be presented as "Authorization: Bearer <token>"
	// on every encode and decode; a missing or wrong one is 401.
	Token string
}

// allowedHeaders are the request headers the Web UI and the CLI send.
const allowedHeaders = "Content-Type, X-Namespace, Authorization"

// Handler returns the codec server's HTTP handler.
func Handler(opts Options) http.Handler {
	codec := converter.NewPayloadCodecHTTPHandler(opts.Codec)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		if origin := r.Header.Get("Origin"); origin != "" {
			switch {
			case slices.Contains(opts.CORSOrigins, origin):
				// A listed origin may send credentials (the Web UI's
				// "include cross-origin credentials").
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
			case slices.Contains(opts.CORSOrigins, "*"):
				h.Set("Access-Control-Allow-Origin", "*")
			}
		}
		if !validPath(r.URL.Path) {
			http.NotFound(w, r)
			return
		}
		switch r.Method {
		case http.MethodOptions:
			// A preflight: answered without the token, which the browser
			// sends only with the request that follows.
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", allowedHeaders)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		case http.MethodPost:
		default:
			h.Set("Allow", "POST, OPTIONS")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		if opts.Token != "" && !tokenMatches(r.Header.Get("Authorization"), opts.Token) {
			h.Set("WWW-Authenticate", `Bearer realm="sagaflow codec server"`)
			http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		codec.ServeHTTP(w, r)
	})
}

// validPath accepts /encode, /decode, and either under one namespace
// segment, which may be empty: the Temporal CLI (v1.5) fills its
// "{namespace}" template with "" on some commands (workflow start), and
// asks for //encode.
func validPath(p string) bool {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	last := parts[len(parts)-1]
	return (last == "encode" || last == "decode") && len(parts) <= 2
}

// tokenMatches compares an Authorization header with "Bearer <token>" in
// constant time.
func tokenMatches(header, token string) bool {
	scheme, got, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) == 1
}
