package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// The read-store commands (orders, order, report) read the reporting
// database only: never Temporal, never the services' stores. What they
// show is as fresh as the projector made it; each says so when the
// projector lags or does not run.

// readStoreTimeout bounds the connection to the reporting database, so that
// a server that does not answer is a clear error rather than a hang.
const readStoreTimeout = 10 * time.Second

// The lag thresholds: a source whose unprojected events are more than
// lagBehind old, or a measurement older than lagStale (the projector
// measures every 2 s while it runs), makes a command warn.
const (
	lagBehind = 5 * time.Second
	lagStale  = 30 * time.Second
)

// projectorHowTo says how to get a projector running; projectorHint asks
// whether one runs.
const (
	projectorHowTo = "workers run one unless --projector=false; or go run ./projector"
	projectorHint  = "is a projector running? (" + projectorHowTo + ")"
)

// readQuery runs the read-store commands on a store: the command bodies,
// apart from flags and connection, so that tests run them on a store of
// their own.
type readQuery struct {
	store *readstore.Store
	// out receives the result; errOut the lag warning (text output only:
	// with --json it is a field of the result).
	out    io.Writer
	errOut io.Writer
	json   bool
	now    func() time.Time
}

// lagFields are the lag and its warning, part of every read-store
// command's JSON result.
type lagFields struct {
	Lag     []sourceLag `json:"lag"`
	Warning string      `json:"warning,omitempty"`
}

// sourceLag is what the projector last measured of one source, with how
// far behind it the read store was then.
type sourceLag struct {
	readstore.SourceLag
	SecondsBehind float64 `json:"seconds_behind"`
}

// withReadStore opens the read store of c's configuration, runs fn on it
// and closes it. The configuration is checked, and the server must
// answer, before fn runs; every error names the server, never its
// password.
func (c *cli) withReadStore(ctx context.Context, fn func(context.Context, *readQuery) error) error {
	pool, where, err := openReadStore(ctx, c.cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	q := &readQuery{store: readstore.New(pool), out: c.out, errOut: c.errOut, json: c.json, now: time.Now}
	return explainNoViews(fn(ctx, q), where)
}

// openReadStore connects to the reporting database of cfg and checks that
// it answers; where is its host:port, for messages.
func openReadStore(ctx context.Context, cfg config.Config) (pool *pgxpool.Pool, where string, err error) {
	if err := cfg.Require(config.EnvReportingURL); err != nil {
		return nil, "", fmt.Errorf("read store (reporting database): %w", err)
	}
	pc, err := pgxpool.ParseConfig(cfg.ReportingURL)
	if err != nil {
		// pgx's message may quote the URL, password included: say which setting only.
		return nil, "", fmt.Errorf("read store: %s is not a valid PostgreSQL URL", config.EnvReportingURL)
	}
	where = net.JoinHostPort(pc.ConnConfig.Host, strconv.Itoa(int(pc.ConnConfig.Port)))
	octx, cancel := context.WithTimeout(ctx, readStoreTimeout)
	defer cancel()
	pool, err = pgstore.OpenPool(octx, "reporting", cfg.ReportingURL, 2)
	if err != nil {
		cause := errors.Unwrap(err)
		if cause == nil {
			cause = err
		}
		// pgx names host, user and database, never the password; one line.
		return nil, "", fmt.Errorf("read store unreachable: cannot connect to the reporting database at %s: %s", where, flatten(cause.Error()))
	}
	return pool, where, nil
}

// explainNoViews turns the error of a query on a database without the
// read store's tables (no projector ever ran against it) into one that
// says so.
func explainNoViews(err error, where string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
		return fmt.Errorf("the read store (reporting database at %s) has no views yet: no projector has run against it (%s)", where, projectorHowTo)
	}
	return err
}

// flatten puts a multi-line message (pgx lists every address it tried on
// a line of its own) on one line: "a: b; c".
func flatten(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if b.Len() > 0 {
			if strings.HasSuffix(b.String(), ":") {
				b.WriteString(" ")
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(l)
	}
	return b.String()
}

// lag reads the projector's last measurements and the warning they call for.
func (q *readQuery) lag(ctx context.Context) (lagFields, error) {
	lags, err := q.store.Lag(ctx)
	if err != nil {
		return lagFields{}, err
	}
	out := lagFields{Lag: make([]sourceLag, len(lags)), Warning: lagWarning(lags, q.now())}
	for i, l := range lags {
		out.Lag[i] = sourceLag{SourceLag: l, SecondsBehind: l.Seconds()}
	}
	return out, nil
}

// lagWarning says, in one line, what in the projector's measurements makes
// the read store's answers stale ("" when nothing does): the sources whose
// unprojected events are more than lagBehind old, and a last measurement
// more than lagStale before now, or none at all (no projector runs).
func lagWarning(lags []readstore.SourceLag, now time.Time) string {
	var behind []string
	var newest time.Time
	for _, l := range lags {
		if l.Measured.After(newest) {
			newest = l.Measured
		}
		if l.Events > 0 && l.Seconds() > lagBehind.Seconds() {
			behind = append(behind, fmt.Sprintf("%s %s, %s behind", l.Source, plural(l.Events, "event"),
				shortDuration(time.Duration(l.Seconds()*float64(time.Second)))))
		}
	}
	var parts []string
	if len(behind) > 0 {
		parts = append(parts, "read store lags: "+strings.Join(behind, ", "))
	}
	switch {
	case newest.IsZero():
		parts = append(parts, "read store never updated: "+projectorHint)
	case now.Sub(newest) > lagStale:
		parts = append(parts, fmt.Sprintf("read store not updated for %s: %s", shortDuration(now.Sub(newest)), projectorHint))
	}
	return strings.Join(parts, "; ")
}

// shortDuration renders d to the second without trailing zero units:
// "14s", "2m", "1h0m5s".
func shortDuration(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// plural renders "1 event", "2 events".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// emit writes v as indented JSON with --json (its lag fields inside), or
// the lag warning to errOut and then text to out.
func (q *readQuery) emit(v any, lag lagFields, text func(io.Writer)) error {
	if q.json {
		enc := json.NewEncoder(q.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
		return nil
	}
	if lag.Warning != "" {
		fmt.Fprintln(q.errOut, "warning:", lag.Warning)
	}
	text(q.out)
	return nil
}

// mayLag completes the message of something the read store does not hold:
// either absent (it does not exist), or it exists and the projector has
// not brought it in yet.
func mayLag(lag lagFields, absent string) string {
	s := absent + ", or the read store lags behind the services and does not hold it yet"
	if lag.Warning != "" {
		s += " (" + lag.Warning + ")"
	}
	return s
}
