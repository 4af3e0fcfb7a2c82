package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/internal/sagaclient"
	"github.com/sagaflow/sagaflow/internal/sagatest"
	"github.com/sagaflow/sagaflow/internal/stores"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/internal/workers"
	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/workflows"
)

// opsE2E runs starter commands in-process against the real stack, on task
// queues of the test's own (--task-queue-prefix) served by an in-process
// worker pool, over stores of the test's own (internal/sagatest): no other
// worker runs these sagas, and verify judges this test's orders only.
type opsE2E struct {
	*sagatest.Env
	t      *testing.T
	prefix string
	orders *[]string // placed, terminated at the end if still running
	// readStore is the test's read store, built from its stores.
	readStore *readstore.Store
}

// on returns e reporting to t, a subtest.
func (e *opsE2E) on(t *testing.T) *opsE2E {
	c := *e
	c.t = t
	return &c
}

func newOpsE2E(t *testing.T) *opsE2E {
	env := sagatest.Start(t, sagatest.Options{NoWorker: true, Timeout: 5 * time.Minute})
	e := &opsE2E{Env: env, t: t, prefix: testenv.ID("ops") + "-", orders: &[]string{}, readStore: env.ReadSide()}
	queues, err := workers.QueuesFor(e.prefix, workflows.Regions)
	if err != nil {
		t.Fatal(err)
	}
	acts := &activities.Activities{Inventory: env.Inventory, Payments: env.Payments, Orders: env.Orders, Shipping: env.Shipping}
	pool, err := workers.Start(env.Client, acts, queues, workers.Options{StopTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Stop)
	// The test's sagas go with its stores: one left failing would be
	// retried on a queue no one polls, and listed COMPENSATION_FAILING, for
	// ever; one resolved by hand would be listed by every verify.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, id := range *e.orders {
			_, err := e.Client.WorkflowService().DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{
				Namespace: e.Config.TemporalNamespace, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: workflows.WorkflowID(id)},
			})
			var notFound *serviceerror.NotFound
			if err != nil && !errors.As(err, &notFound) {
				t.Errorf("delete the saga of %s: %v", id, err)
			}
		}
	})
	return e
}

// run executes a starter command line in-process, with the test's task
// queue prefix and stores, and returns its output.
func (e *opsE2E) run(args ...string) (string, error) {
	e.t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{cfg: e.Config, out: &out, errOut: &errOut, user: "tester",
		stores:    func(context.Context) (*stores.Stores, error) { return &stores.Stores{Stores: e.Stores}, nil },
		readStore: func(context.Context) (*readstore.Store, func(), error) { return e.readStore, func() {}, nil }}
	root := c.rootCommand()
	root.SetArgs(append([]string{"--task-queue-prefix", e.prefix}, args...))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(e.Ctx)
	if errOut.Len() > 0 {
		e.t.Logf("starter %s: stderr:\n%s", strings.Join(args, " "), errOut.String())
	}
	return out.String(), err
}

// runJSON runs a command with --json and decodes its output into v.
func (e *opsE2E) runJSON(v any, args ...string) error {
	e.t.Helper()
	out, err := e.run(append(args, "--json")...)
	if out != "" {
		if jerr := json.Unmarshal([]byte(out), v); jerr != nil {
			e.t.Fatalf("starter %s: output is not JSON: %v\n%s", strings.Join(args, " "), jerr, out)
		}
	}
	return err
}

// placeFailing places an order whose RefundPayment fails until resolved.
func (e *opsE2E) placeFailing(order string) placed {
	e.t.Helper()
	*e.orders = append(*e.orders, order)
	var p placed
	if err := e.runJSON(&p, "place", "--order", order, "--customer", sagatest.Rich, "--item", sagatest.SKU+":1",
		"--fail-compensation", "RefundPayment"); err != nil {
		e.t.Fatalf("place %s: %v", order, err)
	}
	if !p.New || p.FailCompensation != workflows.StepChargePayment || p.TaskQueue != e.prefix+"eu" ||
		!strings.Contains(p.ResolveCommand, " resolve "+order+" --step RefundPayment --reason ") ||
		!strings.HasSuffix(p.StatusCommand, " status "+order) {
		e.t.Fatalf("placed %+v", p)
	}
	return p
}

// eventually polls cond until it holds.
func (e *opsE2E) eventually(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	(&e2e{t: e.t, ctx: e.Ctx}).eventually(what, timeout, cond)
}

// updatesAccepted counts the updates written to the saga's history.
func (e *opsE2E) updatesAccepted(order string) int {
	e.t.Helper()
	n := 0
	it := e.Client.GetWorkflowHistory(e.Ctx, workflows.WorkflowID(order), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			e.t.Fatal(err)
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED {
			n++
		}
	}
	return n
}

// failingRefund reports whether status shows the saga COMPENSATION_FAILING
// with RefundPayment pending past its first attempt, its last failure
// known, and ChargePayment failing since a moment.
func failingRefund(s sagaStatus) bool {
	if s.State.Status != workflows.StatusCompensationFailing {
		return false
	}
	st := s.State.Step(workflows.StepChargePayment)
	return st != nil && !st.FailingSince.IsZero() && slices.ContainsFunc(s.Pending, func(p pendingActivity) bool {
		return p.Type == "RefundPayment" && p.Step == workflows.StepChargePayment && p.Attempt > 1 && p.LastFailure != ""
	})
}

func TestOperatingSagas(t *testing.T) {
	e := newOpsE2E(t)
	order := e.prefix + "one"
	e.placeFailing(order)

	t.Run("status shows the failing compensation", func(t *testing.T) {
		e := e.on(t)
		var s sagaStatus
		e.eventually("RefundPayment pending past its first attempt", 90*time.Second, func() bool {
			if err := e.runJSON(&s, "status", order); err != nil {
				t.Fatal(err)
			}
			return failingRefund(s)
		})
		out, err := e.run("status", order)
		if err != nil || !strings.Contains(out, "COMPENSATION_FAILING") || !strings.Contains(out, "pending activities") ||
			!strings.Contains(out, "RefundPayment (compensation of ChargePayment) failing since") {
			t.Errorf("text status: %v\n%s", err, out)
		}
		var sagas []listed
		e.eventually("listed COMPENSATION_FAILING", 30*time.Second, func() bool {
			if err := e.runJSON(&sagas, "list", "--status", "compensation_failing", "--limit", "1000"); err != nil {
				t.Fatal(err)
			}
			return slices.ContainsFunc(sagas, func(l listed) bool { return l.OrderID == order })
		})
	})

	t.Run("retry", func(t *testing.T) {
		e := e.on(t)
		var r actionReport
		if err := e.runJSON(&r, "retry", order, "--operator", "ada"); err != nil {
			t.Fatal(err)
		}
		if r.Result != actionActed || r.Action == nil || r.Action.Step != workflows.StepChargePayment ||
			r.Action.Compensation != "RefundPayment" || r.Action.Outcome != workflows.ActionRetried {
			t.Fatalf("retry: %+v, action %+v", r, r.Action)
		}
		before := e.updatesAccepted(order)
		_, err := e.run("retry", order, "--step", "CancelShipment")
		if !errors.Is(err, errBreach) || !strings.Contains(err.Error(), "refused the retry") || !strings.Contains(err.Error(), "CancelShipment is not failing") {
			t.Errorf("retry of a compensation that does not fail: %v", err)
		}
		if n := e.updatesAccepted(order); n != before {
			t.Errorf("a refused retry was written to the history: %d updates accepted, %d before", n, before)
		}
	})

	t.Run("resolve refuses what does not apply", func(t *testing.T) {
		e := e.on(t)
		before := e.updatesAccepted(order)
		// The command line is checked before anything is sent.
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--step", "Foo", "--reason", "x"}, `unknown step "Foo"`},
			{[]string{"--step", "ConfirmOrder", "--reason", "x"}, "it is the pivot"},
			{[]string{"--step", "RefundPayment", "--reason", " "}, "--reason is required"},
		} {
			_, err := e.run(append([]string{"resolve", order}, tc.args...)...)
			if err == nil || errors.Is(err, errBreach) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("resolve %v: %v; want an error containing %q", tc.args, err, tc.want)
			}
		}
		// The saga's validator refuses the same, sent as they are.
		for _, tc := range []struct {
			req  workflows.ResolveRequest
			want string
		}{
			{workflows.ResolveRequest{Step: "Foo", Operator: "ada", Reason: "x"}, `unknown step "Foo"`},
			{workflows.ResolveRequest{Step: workflows.StepConfirmOrder, Operator: "ada", Reason: "x"}, "ConfirmOrder has no compensation"},
			{workflows.ResolveRequest{Step: "RefundPayment", Operator: "ada"}, "the reason is required"},
			{workflows.ResolveRequest{Step: "RefundPayment", Reason: "x"}, "the operator is required"},
			{workflows.ResolveRequest{Step: "CancelShipment", Operator: "ada", Reason: "x"}, "CancelShipment is not failing"},
		} {
			_, err := sagaclient.Resolve(e.Ctx, e.Client, order, "", tc.req)
			var refusal *sagaclient.Refusal
			if !errors.As(err, &refusal) || !strings.Contains(refusal.Reason, tc.want) {
				t.Errorf("resolve %+v: %v; want a refusal containing %q", tc.req, err, tc.want)
			}
		}
		_, err := e.run("resolve", order, "--step", "CreateShipment", "--reason", "x")
		if !errors.Is(err, errBreach) || !strings.Contains(err.Error(), "refused the resolve") {
			t.Errorf("resolve of a compensation that does not fail: %v", err)
		}
		if n := e.updatesAccepted(order); n != before {
			t.Errorf("refused resolves were written to the history: %d updates accepted, %d before", n, before)
		}
		var s sagaStatus
		if err := e.runJSON(&s, "status", order); err != nil || s.State.Status != workflows.StatusCompensationFailing {
			t.Errorf("after refusals the saga is %s (%v), want still COMPENSATION_FAILING", s.State.Status, err)
		}
	})

	t.Run("resolve", func(t *testing.T) {
		e := e.on(t)
		var r actionReport
		if err := e.runJSON(&r, "resolve", order, "--step", "RefundPayment", "--reason", "refunded by bank transfer, ticket 4711", "--operator", "ada"); err != nil {
			t.Fatal(err)
		}
		if r.Result != actionActed || r.Action == nil || r.Action.Outcome != workflows.ActionResolved || r.Action.Step != workflows.StepChargePayment {
			t.Fatalf("resolve: %+v, action %+v", r, r.Action)
		}
		o, err := sagaclient.Wait(e.Ctx, e.Client, order, "")
		if err != nil {
			t.Fatal(err)
		}
		st := o.State.Step(workflows.StepChargePayment)
		if o.State.Status != workflows.StatusCompensatedByHand || st == nil || st.Resolution == nil ||
			st.Resolution.By != "ada" || st.Resolution.Reason != "refunded by bank transfer, ticket 4711" {
			t.Fatalf("outcome %s %+v, ChargePayment %+v", o.Kind, o.State, st)
		}
		out, err := e.run("status", order)
		if err != nil || !strings.Contains(out, "COMPENSATED_BY_HAND") ||
			!strings.Contains(out, "RefundPayment (compensation of ChargePayment) resolved by hand by ada at") {
			t.Errorf("text status: %v\n%s", err, out)
		}
		_, err = e.run("retry", order)
		if !errors.Is(err, errBreach) || !strings.Contains(err.Error(), "the saga has closed (COMPENSATED_BY_HAND") {
			t.Errorf("retry of a closed saga: %v", err)
		}
	})

	t.Run("verify lists the resolution and excuses its effect", func(t *testing.T) {
		e := e.on(t)
		var v verifyReport
		e.eventually("verify lists the saga resolved by hand", 30*time.Second, func() bool {
			v = verifyReport{}
			if err := e.runJSON(&v, "verify", "--at-rest"); err != nil && !errors.Is(err, errBreach) {
				t.Fatal(err)
			}
			return slices.ContainsFunc(v.Resolved, func(r sagaclient.Resolved) bool { return r.OrderID == order })
		})
		if v.Breaches() != 0 || len(v.Excused) != 1 || v.Excused[0].OrderID != order || v.Excused[0].Step != workflows.StepChargePayment ||
			!strings.Contains(v.Excused[0].Problem, "still captured") {
			t.Fatalf("verify: %d breaches, excused %+v\n%s", v.Breaches(), v.Excused, v.String())
		}
		out, err := e.run("verify", "--at-rest")
		if err != nil || !strings.Contains(out, "order "+order+": RefundPayment (of ChargePayment) resolved by ada at") ||
			!strings.Contains(out, "refunded by bank transfer, ticket 4711") || !strings.Contains(out, "excused, compensations resolved by hand (no breach): 1") {
			t.Errorf("verify: %v\n%s", err, out)
		}
		// Without the excuse, the payment still captured is a breach.
		r, err := invariants.Check(e.Ctx, e.Stores, invariants.Options{Quiet: true})
		if err != nil || r.Breaches() != 1 {
			t.Errorf("without the excuse: %v\n%s", err, r)
		}
	})

	t.Run("bulk resolve with --query", func(t *testing.T) {
		e := e.on(t)
		bulk := e.prefix + "bulk"
		var ids []string
		for i := range 3 {
			id := bulk + "-" + string(rune('a'+i))
			e.placeFailing(id)
			ids = append(ids, id)
		}
		query := `SagaStatus="COMPENSATION_FAILING" AND OrderId STARTS_WITH "` + bulk + `"`
		var plan bulkReport
		e.eventually("the 3 sagas listed COMPENSATION_FAILING", 90*time.Second, func() bool {
			plan = bulkReport{}
			if err := e.runJSON(&plan, "resolve", "--query", query, "--step", "RefundPayment", "--reason", "refunds done by hand, INC-12"); err != nil {
				t.Fatal(err)
			}
			return len(plan.Sagas) == 3
		})
		if plan.Sent || plan.Counts != nil {
			t.Errorf("without --yes: %+v", plan)
		}
		for _, r := range plan.Sagas {
			if !slices.Contains(ids, r.OrderID) || r.Status != string(workflows.StatusCompensationFailing) || r.Result != "" ||
				!slices.ContainsFunc(r.Failing, func(p pendingActivity) bool { return p.Type == "RefundPayment" }) {
				t.Errorf("listed %+v", r)
			}
		}
		out, err := e.run("resolve", "--query", query, "--step", "RefundPayment", "--reason", "refunds done by hand, INC-12")
		if err != nil || !strings.Contains(out, "3 running saga(s) match") || !strings.Contains(out, "run the same command with --yes") {
			t.Errorf("without --yes: %v\n%s", err, out)
		}
		for _, id := range ids {
			if n := e.updatesAccepted(id); n != 0 {
				t.Errorf("%s: %d updates accepted without --yes", id, n)
			}
		}

		// A bulk action the sagas refuse: reported per saga, exit 1.
		var refused bulkReport
		err = e.runJSON(&refused, "retry", "--query", query, "--step", "CancelShipment", "--yes")
		if !errors.Is(err, errBreach) || !refused.Sent || len(refused.Sagas) != 3 || refused.Counts[actionRefused] != 3 {
			t.Fatalf("refused bulk retry: %v, %+v", err, refused)
		}
		for _, r := range refused.Sagas {
			if r.Result != actionRefused || !strings.Contains(r.Reason, "CancelShipment is not failing") {
				t.Errorf("refused %+v", r)
			}
		}
		out, err = e.run("retry", "--query", query, "--step", "CancelShipment", "--yes")
		if !errors.Is(err, errBreach) || strings.Contains(out, "nothing was sent") || strings.Count(out, " refused ") != 3 ||
			!strings.Contains(out, "retry: 0 acted on, 3 refused, 0 errors, of 3 saga(s)") {
			t.Errorf("refused bulk retry, text: %v\n%s", err, out)
		}

		var done bulkReport
		if err := e.runJSON(&done, "resolve", "--query", query, "--step", "RefundPayment", "--reason", "refunds done by hand, INC-12", "--yes"); err != nil {
			t.Fatalf("bulk resolve: %v, %+v", err, done)
		}
		if !done.Sent || len(done.Sagas) != 3 || done.Counts[actionActed] != 3 {
			t.Fatalf("bulk resolve: %+v", done)
		}
		for _, r := range done.Sagas {
			if r.Result != actionActed || r.Action == nil || r.Action.Outcome != workflows.ActionResolved {
				t.Errorf("resolved %+v", r)
			}
		}
		for _, id := range ids {
			o, err := sagaclient.Wait(e.Ctx, e.Client, id, "")
			if err != nil || o.State.Status != workflows.StatusCompensatedByHand {
				t.Errorf("%s ended %s: %v", id, o.Status(), err)
			}
		}
	})
}

// The demo leaves its failing-compensation order COMPENSATION_FAILING, says
// how to resolve it, and its verify passes meanwhile; the command it prints
// ends the saga, and verify at rest passes after.
func TestDemoLeavesOneSagaForAnOperator(t *testing.T) {
	e := newOpsE2E(t)
	var rep demoReport
	err := e.runJSON(&rep, "demo")
	for _, o := range rep.Orders {
		*e.orders = append(*e.orders, o.OrderID)
	}
	if err != nil {
		t.Fatalf("demo: %v\n%+v", err, rep)
	}
	if rep.Unexpected != 0 || rep.Verify.Breaches() != 0 || rep.Verify.InFlight != 1 || rep.Operate == nil {
		t.Fatalf("demo: %d unexpected, %d breaches, %d in flight, operate %+v", rep.Unexpected, rep.Verify.Breaches(), rep.Verify.InFlight, rep.Operate)
	}
	op := rep.Operate
	if !strings.HasSuffix(op.StatusCommand, " status "+op.OrderID) ||
		!slices.ContainsFunc(op.Failing, func(p pendingActivity) bool { return p.Type == "RefundPayment" }) {
		t.Errorf("operate %+v", op)
	}
	var s sagaStatus
	if err := e.runJSON(&s, "status", op.OrderID); err != nil || s.State.Status != workflows.StatusCompensationFailing || s.Execution != "Running" {
		t.Fatalf("the demo's failing order: %s, %s, %v", s.State.Status, s.Execution, err)
	}
	// Run the printed command, less the program's name.
	_, args, ok := strings.Cut(op.ResolveCommand, " resolve ")
	if !ok {
		t.Fatalf("resolve command %q", op.ResolveCommand)
	}
	args = strings.ReplaceAll(args, `"what was done by hand"`, "demo")
	if out, err := e.run(append([]string{"resolve"}, strings.Fields(args)...)...); err != nil {
		t.Fatalf("%s: %v\n%s", op.ResolveCommand, err, out)
	}
	if o, err := sagaclient.Wait(e.Ctx, e.Client, op.OrderID, ""); err != nil || o.State.Status != workflows.StatusCompensatedByHand {
		t.Fatalf("after resolve the saga ended %s: %v", o.Status(), err)
	}
	var v verifyReport
	e.eventually("verify at rest lists the resolution", 30*time.Second, func() bool {
		v = verifyReport{}
		if err := e.runJSON(&v, "verify", "--at-rest"); err != nil && !errors.Is(err, errBreach) {
			t.Fatal(err)
		}
		return slices.ContainsFunc(v.Resolved, func(r sagaclient.Resolved) bool { return r.OrderID == op.OrderID })
	})
	if v.Breaches() != 0 || len(v.Excused) != 1 || v.Excused[0].OrderID != op.OrderID {
		t.Fatalf("verify at rest:\n%s", v.String())
	}
}
