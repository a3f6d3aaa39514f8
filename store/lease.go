package store

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// StatusInterrupted is a derived status: the row says running (or paused) but its
// owner is gone (lease expired, or a dead process on this host). It is never stored;
// every read of a run computes it, and `seal resume` may take such a run over.
const StatusInterrupted = "interrupted"

// Sentinels of the owner lease, for errors.Is.
var (
	ErrLeased    = errors.New("owned by a live process")
	ErrLeaseLost = errors.New("this process no longer owns the run")
)

// Owner is the process that executes a run and holds its lease until Until; the
// heartbeat moves Until on.
type Owner struct {
	PID   int
	Host  string
	Token string
	Until time.Time
}

func (o Owner) String() string {
	if o.Token == "" {
		return "no owner"
	}
	return fmt.Sprintf("pid %d on %s", o.PID, o.Host)
}

// Live reports whether the lease still holds at now: not expired, and, on this host,
// its process still exists. A stopped or hung process stops heartbeating and so loses
// the lease when it expires; a pid is not trusted alone (pids are reused).
func (o Owner) Live(now time.Time) bool {
	if o.Token == "" || !now.Before(o.Until) {
		return false
	}
	if hostname() == o.Host && !processAlive(o.PID) {
		return false
	}
	return true
}

// NewOwner is this process as a run's owner, with a fresh random token.
func NewOwner() Owner {
	b := make([]byte, 16)
	rand.Read(b)
	return Owner{PID: os.Getpid(), Host: hostname(), Token: hex.EncodeToString(b)}
}

// hostname is read once: Live runs for every row a run listing derives a status for.
var hostname = sync.OnceValue(func() string {
	h, _ := os.Hostname()
	return h
})

// derive sets a run's shown status from its stored status and lease.
func (r *Run) derive(now time.Time) {
	if (r.Status == StatusRunning || r.Status == StatusPaused) && !r.Owner.Live(now) {
		r.Status = StatusInterrupted
	}
}

// ClaimRun makes o the owner of run id until now+ttl and marks it running, unless a
// live owner other than o holds it: then the error (ErrLeased) names that owner. A
// done run cannot be claimed. The claim also fences this DB handle: from now on every
// write of the run's results checks, inside its transaction, that o still owns it.
func (db *DB) ClaimRun(id int64, o Owner, ttl time.Duration) error {
	op := fmt.Sprintf("claim run %d", id)
	now := time.Now()
	err := db.write(op, func(tx *sql.Tx) error {
		var cur Owner
		var status string
		err := tx.QueryRow(`SELECT status, owner_pid, owner_host, owner_token, lease_until FROM runs WHERE id = ?`, id).
			Scan(&status, &cur.PID, &cur.Host, &cur.Token, tm{&cur.Until})
		if errors.Is(err, sql.ErrNoRows) {
			return db.notFound("run", id)
		} else if err != nil {
			return err
		}
		if status == StatusDone {
			return invalid("run %d is already done", id)
		}
		if (status == StatusRunning || status == StatusPaused) && cur.Token != o.Token && cur.Live(now) {
			return fmt.Errorf("%w: %s executes run %d (its lease holds %s more); stop that process first, or wait for the lease to lapse",
				ErrLeased, cur, id, cur.Until.Sub(now).Round(time.Second))
		}
		_, err = tx.Exec(`UPDATE runs SET status = ?, error = '', owner_pid = ?, owner_host = ?, owner_token = ?, lease_until = ?, updated_at = ? WHERE id = ?`,
			StatusRunning, o.PID, o.Host, o.Token, fmtTime(now.Add(ttl)), fmtTime(now), id)
		return err
	})
	if err != nil {
		return err
	}
	db.fences.Store(id, o.Token)
	return nil
}

// Heartbeat renews o's lease on run id until now+ttl; ErrLeaseLost when another
// process has taken the run over.
func (db *DB) Heartbeat(id int64, o Owner, ttl time.Duration) error {
	return db.write(fmt.Sprintf("renew the lease of run %d", id), func(tx *sql.Tx) error {
		if err := db.owns(tx, id); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE runs SET lease_until = ? WHERE id = ?`, fmtTime(time.Now().Add(ttl)), id)
		return err
	})
}

// owns is the fence of every write of a run's results: when this handle claimed the
// run, its token must still be the row's. Runs it never claimed are not checked.
func (db *DB) owns(tx *sql.Tx, id int64) error {
	tok, ok := db.fences.Load(id)
	if !ok {
		return nil
	}
	var cur Owner
	err := tx.QueryRow(`SELECT owner_pid, owner_host, owner_token FROM runs WHERE id = ?`, id).Scan(&cur.PID, &cur.Host, &cur.Token)
	if errors.Is(err, sql.ErrNoRows) {
		return db.notFound("run", id)
	} else if err != nil {
		return err
	}
	if cur.Token != tok.(string) {
		return fmt.Errorf("%w: run %d was taken over by %s", ErrLeaseLost, id, cur)
	}
	return nil
}

// needOwnRun is needRun for writes: the run exists and this handle still owns it.
func (db *DB) needOwnRun(tx *sql.Tx, id int64) error {
	if err := db.needRun(tx, id); err != nil {
		return err
	}
	return db.owns(tx, id)
}
