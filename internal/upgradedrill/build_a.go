package upgradedrill

import "go.temporal.io/sdk/workflow"

// BuildA is the drill saga as first deployed: Reserve, Charge, Ship, each
// after registering its compensation (Release, Refund, CancelShip), then
// the pivot Confirm. With Input.PauseBeforeShip it holds before Ship until
// SignalResume. A failed step undoes the steps before it in reverse order.
func BuildA(ctx workflow.Context, in Input) (Result, error) {
	r, err := begin(ctx)
	if err != nil {
		return Result{}, err
	}
	if err := r.step(Reserve, Release); err != nil {
		return r.abort(err)
	}
	if err := r.step(Charge, Refund); err != nil {
		return r.abort(err)
	}
	r.pause(in)
	if err := r.step(Ship, CancelShip); err != nil {
		return r.abort(err)
	}
	return r.confirm()
}
