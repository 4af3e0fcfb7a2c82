package testenv

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/description"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/xoptions"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/services/mongostore"
)

// Selection is one server selection of a MongoDB operation and the command
// the operation then sent.
type Selection struct {
	// Command is the name of the command sent after the selection ("find",
	// "insert", "update", ...); "" when none was (the operation failed
	// before, or a retry selected again).
	Command string
	// PrimaryOnly says whether the operation's server selector picks the
	// primary alone from a replica set of one primary and one secondary,
	// and nothing from one with the secondary alone: what a write, or a
	// read with read preference primary, does. A read that may take a
	// secondary (secondaryPreferred, secondary, nearest, primaryPreferred)
	// is false.
	PrimaryOnly bool
	// ReadPreference is the mode of the command's $readPreference, "" when
	// it carried none. The driver omits $readPreference for a standalone
	// server (FerretDB) and for primary on a replica set, so on the local
	// stack it is always ""; against a replica set a secondary mode shows.
	ReadPreference string
	// ReadConcern is the level of the command's readConcern, "" when it
	// carried none (the server's default, "local").
	ReadConcern string
}

// readCommands are the commands that read documents.
var readCommands = map[string]bool{"find": true, "aggregate": true, "count": true, "distinct": true}

// Read reports whether the selection's command reads documents.
func (s Selection) Read() bool { return readCommands[s.Command] }

// Secondary reports whether the operation could be served by a secondary:
// its selector does not insist on the primary, or its command asked for a
// secondary mode on the wire.
func (s Selection) Secondary() bool {
	switch s.ReadPreference { // not primaryPreferred: what primary is sent as to a single server
	case "secondary", "secondaryPreferred", "nearest":
		return true
	}
	return !s.PrimaryOnly
}

// Latest reports whether the command reads the latest state of the server
// that serves it (read concern "local" or none), rather than, say, only
// what a majority has ("majority"), which may lack a write the primary
// has just acknowledged.
func (s Selection) Latest() bool { return s.ReadConcern == "" || s.ReadConcern == "local" }

// Check fails the test unless the client sent at least minReads read
// commands and every operation asked for the primary alone, every read for
// its latest state.
func (r *MongoReads) Check(tb testing.TB, minReads int) {
	tb.Helper()
	n := 0
	for i, s := range r.Selections() {
		if s.Read() {
			n++
			if !s.Latest() {
				tb.Errorf("operation %d (%q) reads with read concern %q, not the primary's latest state: %+v", i, s.Command, s.ReadConcern, s)
			}
		}
		if s.Secondary() {
			tb.Errorf("operation %d (%q) may be served by a secondary: %+v", i, s.Command, s)
		}
	}
	if n < minReads {
		tb.Errorf("%d reads, want at least %d: %+v", n, minReads, r.Selections())
	}
}

// MongoReads records where a client's operations may be served: every
// server selection the driver makes for them, probed with a replica set of
// a primary and a secondary, paired with the command that followed it. The
// pairing assumes one operation at a time on the client.
type MongoReads struct {
	mu  sync.Mutex
	log []Selection
}

// Selections returns what was recorded since the client was made or the
// last Reset.
func (r *MongoReads) Selections() []Selection {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Selection(nil), r.log...)
}

// Reset forgets what was recorded.
func (r *MongoReads) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = nil
}

func (r *MongoReads) selected(primaryOnly bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, Selection{PrimaryOnly: primaryOnly})
}

func (r *MongoReads) started(_ context.Context, e *event.CommandStartedEvent) {
	mode, _ := e.Command.Lookup("$readPreference", "mode").StringValueOK()
	level, _ := e.Command.Lookup("readConcern", "level").StringValueOK()
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.log); n > 0 && r.log[n-1].Command == "" {
		r.log[n-1].Command, r.log[n-1].ReadPreference, r.log[n-1].ReadConcern = e.CommandName, mode, level
		return
	}
	// A command without a selection of its own (a getMore on its cursor's
	// server) goes where its operation's selection sent it.
	inherited := false
	if n := len(r.log); n > 0 {
		inherited = r.log[n-1].PrimaryOnly
	}
	r.log = append(r.log, Selection{Command: e.CommandName, ReadPreference: mode, ReadConcern: level, PrimaryOnly: inherited})
}

// The probes on which a selector shows whether it insists on the primary: a
// replica set of one primary and one secondary, both at the same distance,
// and the same set while it has no primary.
var (
	probeWire      = &description.VersionRange{Min: 0, Max: 25}
	probePrimary   = description.Server{Addr: "primary.probe:27017", Kind: description.ServerKindRSPrimary, SetName: "probe", WireVersion: probeWire}
	probeSecondary = description.Server{Addr: "secondary.probe:27017", Kind: description.ServerKindRSSecondary, SetName: "probe", WireVersion: probeWire}
	withPrimary    = description.Topology{Kind: description.TopologyKindReplicaSetWithPrimary, SetName: "probe",
		Servers: []description.Server{probePrimary, probeSecondary}}
	withoutPrimary = description.Topology{Kind: description.TopologyKindReplicaSetNoPrimary, SetName: "probe",
		Servers: []description.Server{probeSecondary}}
)

func primaryOnly(sel description.ServerSelector) bool {
	got, err := sel.SelectServer(withPrimary, withPrimary.Servers)
	if err != nil || len(got) != 1 || got[0].Kind != description.ServerKindRSPrimary {
		return false
	}
	got, err = sel.SelectServer(withoutPrimary, withoutPrimary.Servers)
	return err == nil && len(got) == 0
}

// recordingDeployment is the driver's own topology, recording each server
// selection before making it.
type recordingDeployment struct {
	*topology.Topology
	reads *MongoReads
}

func (d recordingDeployment) SelectServer(ctx context.Context, sel description.ServerSelector) (driver.Server, error) {
	d.reads.selected(primaryOnly(sel))
	return d.Topology.SelectServer(ctx, sel)
}

// MongoSecondaryPreferred returns a new, empty database, as Mongo does, on
// a client whose URI is the stack's with readPreference=secondaryPreferred
// and readConcernLevel=majority, and the record of where that client's
// operations may be served. A read that does not ask for the primary itself
// inherits secondaryPreferred from the URI and shows as Secondary, even
// against a single server (FerretDB), where the driver sends no read
// preference at all; one that does not ask for read concern "local" shows
// as not Latest.
func MongoSecondaryPreferred(tb testing.TB) (*mongo.Database, *MongoReads) {
	tb.Helper()
	uri := withQuery(Config(tb, config.EnvMongoURI).MongoURI, "readPreference=secondaryPreferred&readConcernLevel=majority")
	reads := &MongoReads{}
	opts := options.Client().ApplyURI(uri).SetMaxPoolSize(mongostore.MaxPoolSize).SetTimeout(30 * time.Second).
		SetMonitor(&event.CommandMonitor{Started: reads.started})
	if rp := opts.ReadPreference; rp == nil || rp.Mode() != readpref.SecondaryPreferredMode {
		tb.Fatalf("URI %s: read preference %v, want secondaryPreferred", uri, rp)
	}
	cfg, err := topology.NewConfig(opts, nil)
	if err != nil {
		tb.Fatal(err)
	}
	topo, err := topology.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := xoptions.SetInternalClientOptions(opts, "deployment", recordingDeployment{Topology: topo, reads: reads}); err != nil {
		tb.Fatal(err)
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		tb.Fatal(err)
	}
	db := client.Database(strings.ReplaceAll(ID("test"), "-", "_"))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			tb.Errorf("drop %s: %v", db.Name(), err)
		}
		_ = client.Disconnect(ctx)
	})
	return db, reads
}

// withQuery adds the option kv (key=value) to a MongoDB URI.
func withQuery(uri, kv string) string {
	switch {
	case strings.Contains(uri, "?"):
		return uri + "&" + kv
	case strings.Count(uri, "/") > 2: // mongodb://host/db
		return uri + "?" + kv
	}
	return uri + "/?" + kv
}
