package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/sagaflow/sagaflow/internal/logging"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/workflows"
)

// dialTimeout bounds the wait for the Temporal server to answer.
const dialTimeout = 10 * time.Second

// workerHint tells a user how to get a saga moving.
const workerHint = "start one with `go run ./worker` (it serves every region)"

// dial connects to Temporal. The SDK logs to stderr at warn level, so that
// only what a user should see reaches the terminal. With --encrypt, the
// client encrypts payloads, and c.dc is its data converter. The caller
// closes the client.
func (c *cli) dial(ctx context.Context) (client.Client, error) {
	z, err := logging.New(logging.FormatAuto, "warn", c.errOut)
	if err != nil {
		return nil, fmt.Errorf("logger: %w", err)
	}
	opts := temporalclient.Options{Logger: logging.Temporal(z), Timeout: dialTimeout, Interceptors: c.interceptors}
	if _, err := c.encryption.Apply(&opts); err != nil {
		return nil, err
	}
	c.dc = opts.DataConverter
	return temporalclient.Dial(ctx, c.cfg, opts)
}

// errNoSaga is the error for an order that has no saga.
func errNoSaga(orderID string) error {
	return fmt.Errorf("no saga for order %s (workflow id %s)", orderID, workflows.WorkflowID(orderID))
}

// describeSaga describes the current run of an order's saga; an unknown
// order is errNoSaga.
func describeSaga(ctx context.Context, tc client.Client, orderID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	d, err := tc.DescribeWorkflowExecution(ctx, workflows.WorkflowID(orderID), "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil, errNoSaga(orderID)
	}
	if err != nil {
		return nil, fmt.Errorf("describe the saga of order %s: %w", orderID, err)
	}
	return d, nil
}

// isRunning reports whether a described execution is still open.
func isRunning(d *workflowservice.DescribeWorkflowExecutionResponse) bool {
	return d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}

// keyword decodes a Keyword search attribute of a visibility record ("" when
// it is absent or not a string).
func keyword(attrs *commonpb.SearchAttributes, key temporal.SearchAttributeKeyKeyword) string {
	p, ok := attrs.GetIndexedFields()[key.GetName()]
	if !ok {
		return ""
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		return ""
	}
	return s
}

// memoString decodes a string memo field with dc (the client's data
// converter, which encrypts memos with --encrypt; nil: the default) ("" when
// absent).
func memoString(dc converter.DataConverter, m *commonpb.Memo, key string) string {
	p, ok := m.GetFields()[key]
	if !ok {
		return ""
	}
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	var s string
	if err := dc.FromPayload(p, &s); err != nil {
		return ""
	}
	return s
}

// pollerWindow is how recently a poller must have polled to count as alive:
// an idle worker's long poll lasts about a minute before it polls again.
const pollerWindow = 90 * time.Second

// livePollers counts the workers that polled the workflow tasks of
// taskQueue within pollerWindow.
func livePollers(ctx context.Context, tc client.Client, taskQueue string) (int, error) {
	resp, err := tc.DescribeTaskQueue(ctx, taskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return 0, fmt.Errorf("describe task queue %s: %w", taskQueue, err)
	}
	n := 0
	for _, p := range resp.GetPollers() {
		if t := p.GetLastAccessTime(); t != nil && time.Since(t.AsTime()) < pollerWindow {
			n++
		}
	}
	return n, nil
}

// awaitWorkers waits up to wait for a worker on each of the task queues and
// names the ones left without one.
func awaitWorkers(ctx context.Context, tc client.Client, queues []string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		var missing []string
		for _, q := range queues {
			n, err := livePollers(ctx, tc, q)
			if err != nil {
				return err
			}
			if n == 0 {
				missing = append(missing, q)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no worker polls the task queue(s) %v after %s, so no saga would run: %s", missing, wait, workerHint)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for workers: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// awaitSagaStatus polls the saga of orderID until its SagaStatus search
// attribute (as the server's mutable state has it, not the eventually
// consistent visibility store) is want, and returns its description. The
// saga closing first, or wait passing, is an error.
func awaitSagaStatus(ctx context.Context, tc client.Client, orderID string, want workflows.SagaStatus, wait time.Duration) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	deadline := time.Now().Add(wait)
	for {
		d, err := describeSaga(ctx, tc, orderID)
		if err != nil {
			return nil, err
		}
		status := keyword(d.GetWorkflowExecutionInfo().GetSearchAttributes(), workflows.AttrSagaStatus)
		switch {
		case status == string(want):
			return d, nil
		case !isRunning(d):
			return nil, fmt.Errorf("the saga of order %s closed %s (execution %s) before it was %s",
				orderID, orDash(status), d.GetWorkflowExecutionInfo().GetStatus(), want)
		case time.Now().After(deadline):
			return nil, fmt.Errorf("the saga of order %s is still %s after %s, not %s", orderID, orDash(status), wait, want)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for the saga of order %s to be %s: %w", orderID, want, ctx.Err())
		case <-time.After(300 * time.Millisecond):
		}
	}
}
