package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/sagaflow/sagaflow/internal/codec"
	"github.com/sagaflow/sagaflow/internal/codecserver"
	"github.com/sagaflow/sagaflow/internal/logging"
)

// settings are the server's flags; each has an environment variable.
type settings struct {
	listen  string
	origins []string
	token   string
	keys    codec.Source
	tlsCert string
	tlsKey  string
}

func command(getenv func(string) string) *cobra.Command {
	s := settings{
		listen:  envOr(getenv, "SAGAFLOW_CODEC_LISTEN", codecserver.DefaultListen),
		origins: codecserver.DefaultCORSOrigins,
		token:   getenv("SAGAFLOW_CODEC_TOKEN"),
		keys:    codec.SourceFromEnv(getenv),
	}
	if v := getenv("SAGAFLOW_CODEC_CORS_ORIGINS"); v != "" {
		s.origins = strings.Split(v, ",")
	}
	cmd := &cobra.Command{
		Use:   "codecserver",
		Short: "Serve sagaflow's payload encryption to the Temporal Web UI and CLI",
		Long: `codecserver decrypts (and encrypts) sagaflow's payloads for the Temporal Web UI
and CLI, which call it from the browser or the terminal: POST /decode and
/encode, or /{namespace}/decode and /{namespace}/encode, with a JSON body
{"payloads": [...]}. It holds the same keys as the workers (--codec-key-file,
SAGAFLOW_CODEC_KEY_FILE, or the key file's content in SAGAFLOW_CODEC_KEYS).

Anyone who can reach it can decrypt: it listens on loopback by default, and
--token requires "Authorization: Bearer <token>" on every request (the CLI
sends it with --codec-auth "Bearer <token>").

Point the Web UI at it: start the dev server with
--ui-codec-endpoint http://127.0.0.1:8234 (make up does so when
SAGAFLOW_UI_CODEC_ENDPOINT is set), or set it in the UI's settings
("Codec Server" in the top bar). The CLI: temporal workflow show -w <id>
--codec-endpoint 'http://127.0.0.1:8234/{namespace}'.

Each flag below can also be set by the environment variable in brackets.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), s, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.listen, "listen", s.listen, "address to listen on [SAGAFLOW_CODEC_LISTEN]")
	f.StringSliceVar(&s.origins, "cors-origin", s.origins, "browser origins allowed to call the server (the Web UI's), repeatable or comma-separated; \"*\" for any [SAGAFLOW_CODEC_CORS_ORIGINS]")
	f.StringVar(&s.token, "token", s.token, "require \"Authorization: Bearer <token>\"; prefer the variable, a flag shows in the process list [SAGAFLOW_CODEC_TOKEN]")
	f.StringVar(&s.keys.File, "codec-key-file", s.keys.File, "key file (id=base64key lines or JSON; see README) [SAGAFLOW_CODEC_KEY_FILE]")
	f.StringVar(&s.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM); needs --tls-key")
	f.StringVar(&s.tlsKey, "tls-key", "", "the private key of --tls-cert (PEM)")
	cmd.AddCommand(genkeyCommand())
	return cmd
}

func serve(ctx context.Context, s settings, errOut io.Writer) error {
	log, err := logging.New(logging.FormatAuto, "info", errOut)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // nothing to do if stderr is gone
	ring, err := codec.LoadKeyring(s.keys)
	if err != nil {
		return err
	}
	c, err := codec.New(ring)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", s.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.listen, err)
	}
	if s.token == "" && !isLoopback(l.Addr()) {
		log.Warn("listening beyond loopback without --token: anyone who reaches this address can decrypt every payload",
			zap.String("listen", l.Addr().String()))
	}
	scheme := "http"
	if s.tlsCert != "" {
		scheme = "https"
	}
	log.Info("codec server running", zap.String("endpoint", scheme+"://"+l.Addr().String()),
		zap.String("current_key", ring.Current()), zap.Strings("keys", ring.IDs()),
		zap.Strings("cors_origins", s.origins), zap.Bool("token", s.token != ""))
	h := codecserver.Handler(codecserver.Options{Codec: c, CORSOrigins: s.origins, Token: s.token})
	if err := codecserver.Serve(ctx, l, h, s.tlsCert, s.tlsKey); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func genkeyCommand() *cobra.Command {
	var out, rotate, id, format string
	cmd := &cobra.Command{
		Use:   "genkey",
		Short: "Generate a key file, or rotate one",
		Long: `genkey generates a random AES-256 key.

  codecserver genkey --out keys.txt       a new key file (refuses to overwrite), readable by you only
  codecserver genkey --rotate keys.txt    add a new key in front: it encrypts from now on, the old
                                          ones still decrypt (restart workers, starters and the codec
                                          server to pick it up)
  codecserver genkey                      print a key file on stdout, for SAGAFLOW_CODEC_KEYS

A key file holds one "id=base64key" line per key, the current key first
(--format json: {"current": "id", "keys": [{"id": "id", "key": "base64key"}]}).
The id, written in clear in every payload the key encrypts, is not secret;
the key is.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			switch {
			case out != "" && rotate != "":
				return fmt.Errorf("--out and --rotate: give one")
			case out != "":
				k, err := codec.CreateKeyFile(out, id, format, now)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote key %s to %s (mode 0600)\n", k.ID, out)
			case rotate != "":
				k, err := codec.RotateKeyFile(rotate, id, now)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "added key %s to %s; it encrypts from now on, the older keys still decrypt\n", k.ID, rotate)
			default:
				k, err := codec.GenerateKey(id, now)
				if err != nil {
					return err
				}
				r, err := codec.NewKeyring(k)
				if err != nil {
					return err
				}
				body, err := r.Marshal(format)
				if err != nil {
					return err
				}
				if _, err := cmd.OutOrStdout().Write(body); err != nil {
					return fmt.Errorf("write key: %w", err)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "write a new key file here")
	f.StringVar(&rotate, "rotate", "", "add a new current key to this key file")
	f.StringVar(&id, "id", "", "the new key's id (default k<date>-<random>)")
	f.StringVar(&format, "format", codec.FormatLines, "format of a new key file: lines or json (--rotate keeps the file's)")
	return cmd
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
