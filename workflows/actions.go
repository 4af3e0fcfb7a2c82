package workflows

import (
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/saga"
)

// registerActions installs the operator actions, UpdateRetry and
// UpdateResolve. Their validators refuse what does not apply, so a refused
// action is not written to the history.
func (r *run) registerActions() error {
	if err := workflow.SetUpdateHandlerWithOptions(r.ctx, UpdateRetry, r.retry, workflow.UpdateHandlerOptions{
		Validator:   r.validateRetry,
		Description: "run the failing compensation or the stuck pivot now, skipping the rest of its backoff",
	}); err != nil {
		return fmt.Errorf("register update %s: %w", UpdateRetry, err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(r.ctx, UpdateResolve, r.resolve, workflow.UpdateHandlerOptions{
		Validator:   r.validateResolve,
		Description: "declare a failing compensation done by hand (who and why), and go on with the others",
	}); err != nil {
		return fmt.Errorf("register update %s: %w", UpdateResolve, err)
	}
	return nil
}

// failing lists the steps that are failing now: those whose compensation
// the server retries, and the pivot when it is stuck.
func (r *run) failing() []string {
	var steps []string
	if r.s != nil {
		for _, name := range r.s.Failing() {
			if st := r.t.stepOf(name); st != nil {
				steps = append(steps, st.Name)
			}
		}
	}
	if r.pivot != nil && r.pivot.Failing() {
		steps = append(steps, StepConfirmOrder)
	}
	return steps
}

// target picks the failing step a request names ("" when only one fails).
func (r *run) target(name string) (string, error) {
	failing := r.failing()
	if len(failing) == 0 {
		return "", fmt.Errorf("nothing to act on: no step or compensation of order %s is failing (status %s)", r.in.OrderID, r.t.state.Status)
	}
	if name == "" {
		if len(failing) > 1 {
			return "", fmt.Errorf("several steps are failing (%s): name one", describe(failing))
		}
		return failing[0], nil
	}
	step, err := StepOf(name)
	if err != nil {
		return "", err
	}
	for _, f := range failing {
		if f == step {
			return step, nil
		}
	}
	return "", fmt.Errorf("%s is not failing (%s); failing now: %s", name, r.stepStatus(step), describe(failing))
}

// describe names failing steps for an operator: "ChargePayment (its
// compensation RefundPayment)", or the pivot alone.
func describe(steps []string) string {
	out := make([]string, len(steps))
	for i, step := range steps {
		out[i] = step
		if c := Compensations[step]; c != "" {
			out[i] += " (its compensation " + c + ")"
		}
	}
	return strings.Join(out, ", ")
}

func (r *run) stepStatus(step string) string {
	st := r.t.state.Step(step)
	if st.Compensation == "" {
		return "step " + string(st.Status)
	}
	return fmt.Sprintf("step %s, compensation %s", st.Status, st.Compensation)
}

func (r *run) validateRetry(req RetryRequest) error {
	if strings.TrimSpace(req.Operator) == "" {
		return errors.New("retry: the operator is required, for the audit trail")
	}
	_, err := r.target(req.Step)
	return err
}

func (r *run) validateResolve(req ResolveRequest) error {
	switch {
	case strings.TrimSpace(req.Operator) == "":
		return errors.New("resolve: the operator is required, for the audit trail")
	case strings.TrimSpace(req.Reason) == "":
		return errors.New("resolve: the reason is required: say what was done by hand")
	case req.Step == "":
		return errors.New("resolve: name the step whose compensation was done by hand")
	}
	step, err := StepOf(req.Step)
	if err != nil {
		return err
	}
	if step == StepConfirmOrder || step == StepPriceOrder {
		return fmt.Errorf("resolve: %s has no compensation to declare done; only a failing compensation can be resolved (retry a stuck pivot instead)", step)
	}
	_, err = r.target(req.Step)
	return err
}

// retry runs the failing step or compensation again now and answers once
// its new round started (or it ended).
func (r *run) retry(ctx workflow.Context, req RetryRequest) (ActionResult, error) {
	step, err := r.target(req.Step)
	if err != nil {
		return ActionResult{}, err
	}
	workflow.GetLogger(ctx).Info("operator action", "action", UpdateRetry, "step", step, "operator", req.Operator)
	res := ActionResult{Step: step, Compensation: Compensations[step], Outcome: ActionRetried}
	if step == StepConfirmOrder {
		before := r.pivot.Round()
		if err := r.pivot.RetryNow(); err != nil {
			return res, fmt.Errorf("retry %s: %w", step, err)
		}
		if err := workflow.Await(ctx, func() bool { return r.pivot.Round() > before || !r.pivot.Failing() }); err != nil {
			return res, err
		}
		if r.pivot.Round() == before {
			res.Outcome = ActionSucceeded
		}
		res.Status = r.t.state.Status
		return res, nil
	}
	name := res.Compensation
	before, err := r.s.Progress(name)
	if err != nil {
		return res, err
	}
	if err := r.s.RetryNow(name); err != nil {
		return res, fmt.Errorf("retry %s: %w", name, err)
	}
	return r.answer(ctx, res, func(p saga.Progress) bool { return p.Round > before.Round || p.State != saga.FailingState })
}

// answer waits until the compensation of res has moved as done says, then
// completes res: ActionSucceeded when the compensation succeeded on its own
// meanwhile, and the saga's status.
func (r *run) answer(ctx workflow.Context, res ActionResult, done func(saga.Progress) bool) (ActionResult, error) {
	if err := workflow.Await(ctx, func() bool {
		p, _ := r.s.Progress(res.Compensation)
		return done(p)
	}); err != nil {
		return res, err
	}
	if p, _ := r.s.Progress(res.Compensation); p.State == saga.Done {
		res.Outcome = ActionSucceeded
	}
	res.Status = r.t.state.Status
	return res, nil
}

// resolve declares the failing compensation done by hand and answers once
// the saga has moved past it.
func (r *run) resolve(ctx workflow.Context, req ResolveRequest) (ActionResult, error) {
	step, err := r.target(req.Step)
	if err != nil {
		return ActionResult{}, err
	}
	name := Compensations[step]
	workflow.GetLogger(ctx).Info("operator action", "action", UpdateResolve, "step", step, "operator", req.Operator)
	res := ActionResult{Step: step, Compensation: name, Outcome: ActionResolved}
	if err := r.s.Resolve(name, req.Operator, req.Reason); err != nil {
		return res, fmt.Errorf("resolve %s: %w", name, err)
	}
	return r.answer(ctx, res, func(p saga.Progress) bool { return p.State != saga.FailingState && p.State != saga.Running })
}
