package readstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// LeaseName is the name of the projector's lease.
const LeaseName = "projector"

// Lease is a grant of the right to write the read store: the holder and
// the epoch the grant made. Every write checks, in its own transaction,
// that the lease row still holds this epoch for this holder and has not
// expired (by the database's clock), and keeps the row locked (FOR SHARE)
// until it commits: a takeover, which must update the row, waits for that
// write, and every write after it finds a newer epoch. A holder that was
// paused or cut off past its lease is therefore fenced: it cannot write
// after another took over, whatever its own clock says.
type Lease struct {
	Name   string
	Holder string
	Epoch  int64
	// Expires is when the grant or its last renewal said it ends, by the
	// database's clock.
	Expires time.Time
}

// Acquire takes the lease named name for holder for ttl if it is free or
// expired, and returns the grant; ok is false when another holder has an
// unexpired lease. lockWait bounds the wait for the lease row (held by an
// open write of the previous holder).
func (s *Store) Acquire(ctx context.Context, name, holder string, ttl, lockWait time.Duration) (Lease, bool, error) {
	l := Lease{Name: name, Holder: holder}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = %d`, lockWait.Milliseconds())); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `UPDATE projector_lease
			SET holder = $2, epoch = epoch + 1, granted_at = clock_timestamp(),
				expires_at = clock_timestamp() + make_interval(secs => $3)
			WHERE name = $1 AND (expires_at <= clock_timestamp() OR holder = '')
			RETURNING epoch, expires_at`, name, holder, ttl.Seconds()).Scan(&l.Epoch, &l.Expires)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO projector_grants (name, epoch, holder, granted_at) VALUES ($1, $2, $3, clock_timestamp())`,
			name, l.Epoch, holder)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) || isLockTimeout(err) {
		return Lease{}, false, nil
	}
	if err != nil {
		return Lease{}, false, fmt.Errorf("read store: acquire lease %s: %w", name, err)
	}
	return l, true, nil
}

// Renew extends l by ttl from now if it is still the current, unexpired
// grant, and returns it renewed; ErrFenced when it is not.
func (s *Store) Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error) {
	err := s.pool.QueryRow(ctx, `UPDATE projector_lease SET expires_at = clock_timestamp() + make_interval(secs => $4)
		WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > clock_timestamp()
		RETURNING expires_at`, l.Name, l.Holder, l.Epoch, ttl.Seconds()).Scan(&l.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, ErrFenced
	}
	if err != nil {
		return l, fmt.Errorf("read store: renew lease %s: %w", l.Name, err)
	}
	return l, nil
}

// Release gives l up (a clean stop), so a standby takes over at once.
func (s *Store) Release(ctx context.Context, l Lease) error {
	_, err := s.pool.Exec(ctx, `UPDATE projector_lease SET expires_at = clock_timestamp()
		WHERE name = $1 AND holder = $2 AND epoch = $3`, l.Name, l.Holder, l.Epoch)
	if err != nil {
		return fmt.Errorf("read store: release lease %s: %w", l.Name, err)
	}
	return nil
}

// WriteIdleBound is how long a write transaction of the read store may
// wait for its writer between two statements before the server ends it.
// A write is a few statements sent back to back; a writer paused or cut
// off in the middle of one would otherwise keep the lease row locked, and
// every standby out, until the session bound (pgstore.SessionBound). With
// it, a takeover waits at most this long for such a write, less than the
// lease's TTL.
const WriteIdleBound = 3 * time.Second

// fence checks, first thing in a write transaction, that l is the current
// grant and unexpired, and locks the lease row until the transaction ends;
// the transaction is ended by the server if it idles for WriteIdleBound.
func (l Lease) fence(ctx context.Context, tx pgx.Tx) error {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT set_config('idle_in_transaction_session_timeout', $4, true) IS NOT NULL
			AND holder = $2 AND epoch = $3 AND expires_at > clock_timestamp()
		FROM projector_lease WHERE name = $1 FOR SHARE`,
		l.Name, l.Holder, l.Epoch, strconv.FormatInt(WriteIdleBound.Milliseconds(), 10)).Scan(&ok)
	if err != nil {
		return fmt.Errorf("check lease %s: %w", l.Name, err)
	}
	if !ok {
		return ErrFenced
	}
	return nil
}

// LeaseState is the lease row as it stands.
type LeaseState struct {
	Holder  string
	Epoch   int64
	Granted time.Time
	Expires time.Time
	// Live says the lease has not expired.
	Live bool
}

// LeaseState reads the lease named name.
func (s *Store) LeaseState(ctx context.Context, name string) (LeaseState, error) {
	var st LeaseState
	var granted *time.Time
	err := s.pool.QueryRow(ctx, `SELECT holder, epoch, granted_at, expires_at, expires_at > clock_timestamp()
		FROM projector_lease WHERE name = $1`, name).Scan(&st.Holder, &st.Epoch, &granted, &st.Expires, &st.Live)
	if err != nil {
		return LeaseState{}, fmt.Errorf("read store: read lease %s: %w", name, err)
	}
	if granted != nil {
		st.Granted = *granted
	}
	return st, nil
}

// FencedWrites counts the projector's commits written after a later
// epoch's grant: writes by a leader that had been fenced off. The fencing
// makes them impossible; make chaos reports the count, which must be 0.
func (s *Store) FencedWrites(ctx context.Context, since time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*)::int FROM projector_commits c
		WHERE c.written_at >= $1 AND EXISTS (
			SELECT 1 FROM projector_grants g
			WHERE g.name = c.name AND g.epoch > c.epoch AND g.granted_at < c.written_at)`, since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read store: count fenced writes: %w", err)
	}
	return n, nil
}

// isLockTimeout reports whether err is PostgreSQL's lock_timeout.
func isLockTimeout(err error) bool {
	var pe interface{ SQLState() string }
	return errors.As(err, &pe) && pe.SQLState() == "55P03"
}
