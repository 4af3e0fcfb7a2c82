package activities_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/testsuite"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/workflows"
)

// fakeStore holds records to prune and records what each call was given.
type fakeStore struct {
	left      int
	calls     []int
	protected []barrier.Protected
	cutoffs   []time.Time
}

func (f *fakeStore) prune(_ context.Context, cutoff time.Time, protected barrier.Protected, limit int) (int, error) {
	n := min(f.left, limit)
	f.left -= n
	f.calls = append(f.calls, n)
	f.protected = append(f.protected, protected)
	f.cutoffs = append(f.cutoffs, cutoff)
	return n, nil
}

// listing is a Temporal client whose visibility lists the workflow ids
// given, in pages of two, and records the queries.
func listing(t *testing.T, ids ...string) (*mocks.Client, *[]string) {
	t.Helper()
	c := &mocks.Client{}
	var queries []string
	c.On("ListWorkflow", mock.Anything, mock.Anything).Return(
		func(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) *workflowservice.ListWorkflowExecutionsResponse {
			queries = append(queries, req.GetQuery())
			from := 0
			if len(req.GetNextPageToken()) > 0 {
				from = int(req.GetNextPageToken()[0])
			}
			resp := &workflowservice.ListWorkflowExecutionsResponse{}
			for _, id := range ids[from:min(from+2, len(ids))] {
				resp.Executions = append(resp.Executions, &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: id}})
			}
			if from+2 < len(ids) {
				resp.NextPageToken = []byte{byte(from + 2)}
			}
			return resp
		}, nil)
	return c, &queries
}

func activityEnv(cl *activities.Cleanup) *testsuite.TestActivityEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(quiet())
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(cl)
	return env
}

func runPrune(env *testsuite.TestActivityEnvironment, cl *activities.Cleanup, in activities.PruneInput) (activities.PruneResult, error) {
	val, err := env.ExecuteActivity(cl.PruneStore, in)
	if err != nil {
		return activities.PruneResult{}, err
	}
	var res activities.PruneResult
	return res, val.Get(&res)
}

// TestPruneStoreBatchesUntilAShortBatch: the store is pruned 5 at a time
// until a batch removes less than 5, with the run's cutoff and every
// workflow visibility lists as protected (all pages of it).
func TestPruneStoreBatchesUntilAShortBatch(t *testing.T) {
	c, queries := listing(t, "order-a", "order-b", "order-c")
	store := &fakeStore{left: 12}
	cl := &activities.Cleanup{Temporal: c, Namespace: "ns", SagaTypes: []string{"OrderSaga"},
		Stores: map[string]activities.PruneFunc{"s": store.prune}}
	cutoff := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	res, err := runPrune(activityEnv(cl), cl, activities.PruneInput{Store: "s", Cutoff: cutoff, BatchSize: 5, MaxBatches: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(store.calls, []int{5, 5, 2}) || res.Removed != 12 || res.Batches != 3 || !res.Complete || res.Protected != 3 {
		t.Fatalf("calls %v, result %+v; want [5 5 2], 12 removed in 3 batches, complete, 3 protected", store.calls, res)
	}
	for i, p := range store.protected {
		if !slices.Equal(p.IDs(), []string{"order-a", "order-b", "order-c"}) || !store.cutoffs[i].Equal(cutoff) {
			t.Errorf("call %d: protected %v, cutoff %s", i, p.IDs(), store.cutoffs[i])
		}
	}
	if len(*queries) != 2 || (*queries)[0] != activities.ProtectedQuery([]string{"OrderSaga"}, cutoff) {
		t.Errorf("queries %q", *queries)
	}
}

// TestPruneStoreStopsAtItsBoundAndResumes: a run stops after MaxBatches
// (not complete); a retried attempt goes on from its heartbeat.
func TestPruneStoreStopsAtItsBoundAndResumes(t *testing.T) {
	c, _ := listing(t)
	store := &fakeStore{left: 100}
	cl := &activities.Cleanup{Temporal: c, SagaTypes: []string{"OrderSaga"}, Stores: map[string]activities.PruneFunc{"s": store.prune}}
	in := activities.PruneInput{Store: "s", Cutoff: time.Now(), BatchSize: 10, MaxBatches: 3}
	res, err := runPrune(activityEnv(cl), cl, in)
	if err != nil || res.Removed != 30 || res.Batches != 3 || res.Complete {
		t.Fatalf("%+v, %v; want 30 removed in 3 batches, not complete", res, err)
	}
	env := activityEnv(cl)
	env.SetHeartbeatDetails(activities.PruneResult{Store: "s", Removed: 20, Batches: 2})
	res, err = runPrune(env, cl, in)
	if err != nil || res.Removed != 30 || res.Batches != 3 {
		t.Fatalf("resumed: %+v, %v; want one more batch, 30 in all", res, err)
	}
}

// TestPruneStoreRefusesWhatItCannotDo: an unknown store, a missing cutoff
// or batch size, and a failing visibility query remove nothing.
func TestPruneStoreRefusesWhatItCannotDo(t *testing.T) {
	store := &fakeStore{left: 10}
	failing := &mocks.Client{}
	failing.On("ListWorkflow", mock.Anything, mock.Anything).Return(nil, errors.New("visibility down"))
	cl := &activities.Cleanup{Temporal: failing, SagaTypes: []string{"OrderSaga"}, Stores: map[string]activities.PruneFunc{"s": store.prune}}
	for name, in := range map[string]activities.PruneInput{
		"unknown store":        {Store: "nope", Cutoff: time.Now(), BatchSize: 5},
		"no cutoff":            {Store: "s", BatchSize: 5},
		"no batch size":        {Store: "s", Cutoff: time.Now()},
		"visibility failing":   {Store: "s", Cutoff: time.Now(), BatchSize: 5},
		"negative batch bound": {Store: "s", Cutoff: time.Now(), BatchSize: 5, MaxBatches: -1},
	} {
		if _, err := runPrune(activityEnv(cl), cl, in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if len(store.calls) != 0 {
		t.Fatalf("the store was pruned %d times", len(store.calls))
	}
}

// TestProtectedQueryOnTheDevServer runs ProtectedQuery on the stack's
// Temporal (SQLite visibility): a running saga is protected whatever the
// cutoff; a closed one while the cutoff falls between its start and its
// close, not once it closed before the cutoff; and a workflow of another
// type never.
func TestProtectedQueryOnTheDevServer(t *testing.T) {
	w := newWorld(t)
	running := testenv.ID("run")
	w.runningSaga(t, running)
	closedID := testenv.ID("closed")
	closed, err := w.temporal.ExecuteWorkflow(w.ctx, client.StartWorkflowOptions{
		ID: workflows.WorkflowID(closedID), TaskQueue: testenv.ID("retention-nobody"),
	}, workflows.OrderSagaType)
	if err != nil {
		t.Fatal(err)
	}
	other, err := w.temporal.ExecuteWorkflow(w.ctx, client.StartWorkflowOptions{
		ID: workflows.WorkflowID(testenv.ID("other")), TaskQueue: testenv.ID("retention-nobody"),
	}, "NotASaga")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = w.temporal.TerminateWorkflow(context.Background(), other.GetID(), other.GetRunID(), "test over")
	})
	time.Sleep(1500 * time.Millisecond)
	if err := w.temporal.TerminateWorkflow(w.ctx, closed.GetID(), closed.GetRunID(), "closed for the test"); err != nil {
		t.Fatal(err)
	}
	desc, err := w.temporal.DescribeWorkflowExecution(w.ctx, closed.GetID(), closed.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	started, ended := desc.GetWorkflowExecutionInfo().GetStartTime().AsTime(), desc.GetWorkflowExecutionInfo().GetCloseTime().AsTime()
	w.visible(t, `WorkflowId = "`+closed.GetID()+`" AND ExecutionStatus = "Terminated"`, 1)

	mine := []string{workflows.WorkflowID(running), closed.GetID(), other.GetID()}
	protectedAt := func(cutoff time.Time) []string {
		store := &fakeStore{}
		cl := &activities.Cleanup{Temporal: w.temporal, Namespace: "default", SagaTypes: []string{workflows.OrderSagaType},
			Stores: map[string]activities.PruneFunc{"s": store.prune}}
		if _, err := runPrune(activityEnv(cl), cl, activities.PruneInput{Store: "s", Cutoff: cutoff, BatchSize: 5}); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, id := range mine {
			if store.protected[0].Has(id) {
				out = append(out, strings.SplitN(id, "-", 2)[1][:3])
			}
		}
		return out
	}
	for name, c := range map[string]struct {
		cutoff time.Time
		want   []string
	}{
		"cutoff before both started":         {started.Add(-time.Second), []string{"run"}},
		"cutoff between start and close":     {started.Add(ended.Sub(started) / 2), []string{"run", "clo"}},
		"cutoff after the closed one closed": {ended.Add(time.Second), []string{"run"}},
	} {
		if got := protectedAt(c.cutoff); !slices.Equal(got, c.want) {
			t.Errorf("%s: protected %v, want %v", name, got, c.want)
		}
	}
}

// TestCleanupCutoffReadsTheNamespaceRetention: the cutoff is now minus the
// stack namespace's retention and the margin; a negative margin is refused.
func TestCleanupCutoffReadsTheNamespaceRetention(t *testing.T) {
	w := newWorld(t)
	ns, err := w.temporal.WorkflowService().DescribeNamespace(w.ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	retention := ns.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	cl := w.cleanup()
	env := activityEnv(cl)
	before := time.Now()
	val, err := env.ExecuteActivity(cl.CleanupCutoff, activities.CutoffInput{Margin: 3 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	var cut activities.CutoffResult
	if err := val.Get(&cut); err != nil {
		t.Fatal(err)
	}
	lo, hi := before.Add(-retention-3*time.Hour), after.Add(-retention-3*time.Hour)
	if cut.Retention != retention || cut.Cutoff.Before(lo) || cut.Cutoff.After(hi) {
		t.Fatalf("cutoff %s with retention %s; want retention %s and a cutoff in [%s, %s]", cut.Cutoff, cut.Retention, retention, lo, hi)
	}
	if _, err := env.ExecuteActivity(cl.CleanupCutoff, activities.CutoffInput{Margin: -time.Hour}); err == nil {
		t.Fatal("a negative margin was accepted")
	}
}
