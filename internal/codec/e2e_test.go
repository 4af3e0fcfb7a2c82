package codec_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sagaflow/sagaflow/internal/codec"
	"github.com/sagaflow/sagaflow/internal/sagaclient"
	"github.com/sagaflow/sagaflow/internal/sagatest"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/workflows"
)

// What must never reach the server in clear: the customer's name and
// street, and the order's amount (7654321 minor units, also rendered as
// 76543.21 in summaries).
const (
	secretName   = "Ada Geheimnis"
	secretStreet = "Verborgene Gasse 4711"
	unitPrice    = 7_654_321
)

var secrets = []string{secretName, secretStreet, "7654321", "76543.21"}

// TestHistoryHoldsCiphertextOnly runs two orders (one completes, one is
// compensated) through an in-process worker with encryption on, on the
// real dev server, PostgreSQL and FerretDB; then reads their histories with
// a client that has no key: every payload is encrypted and no secret
// appears anywhere in the raw bytes. With the key, the input decodes back.
func TestHistoryHoldsCiphertextOnly(t *testing.T) {
	// A worker and a client with encryption on, over stores of its own.
	key, err := codec.GenerateKey("e2e-key", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := codec.NewKeyring(key)
	keyFile, err := ring.Marshal(codec.FormatLines)
	if err != nil {
		t.Fatal(err)
	}
	var encOpts temporalclient.Options
	if _, err := (codec.Settings{Enabled: true, Keys: codec.Source{Inline: string(keyFile)}}).Apply(&encOpts); err != nil {
		t.Fatal(err)
	}
	e := sagatest.Start(t, sagatest.Options{
		Dial: encOpts,
		Seed: sagatest.Seed([]inventory.Stock{{SKU: "ENC-1", UnitPrice: unitPrice, Quantity: 100}},
			[]payments.Account{{CustomerID: "enc-rich", Balance: 1_000_000_000}, {CustomerID: "enc-poor", Balance: 100}}),
		Concurrency: 8,
	})
	ctx, enc := e.Ctx, e.Client

	order := func(customer string) workflows.OrderInput {
		return workflows.OrderInput{
			OrderID: testenv.ID("enc"), CustomerID: customer, Region: "eu",
			Items:  []services.Item{{SKU: "ENC-1", Quantity: 1}},
			ShipTo: services.Address{Name: secretName, Street: secretStreet, City: "Berlin", PostalCode: "10115", Country: "DE"},
		}
	}
	start := func(in workflows.OrderInput) client.WorkflowRun {
		opts, in := sagaclient.StartOptions(in)
		opts.TaskQueue = e.Queue
		opts.Memo = map[string]any{"note": "deliver to " + secretStreet}
		run, err := enc.ExecuteWorkflow(ctx, opts, workflows.OrderSaga, in)
		if err != nil {
			t.Fatalf("start %s: %v", in.OrderID, err)
		}
		return run
	}
	okIn, poorIn := order("enc-rich"), order("enc-poor")
	okRun, poorRun := start(okIn), start(poorIn)
	var state workflows.SagaState
	if err := okRun.Get(ctx, &state); err != nil {
		t.Fatalf("the completing order: %v", err)
	}
	err = poorRun.Get(ctx, nil)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		t.Fatalf("the order without funds ended with %v", err)
	}
	var failedState workflows.SagaState
	if err := appErr.Details(&failedState); err != nil || failedState.FailedStep == "" {
		t.Errorf("the failure's saga state, decoded with the key: %+v, %v", failedState, err)
	}

	// A client without the key sees ciphertext only.
	plain := e.Dial(temporalclient.Options{})
	for _, run := range []client.WorkflowRun{okRun, poorRun} {
		events := history(ctx, t, plain, run)
		var raw bytes.Buffer
		encrypted, failures := 0, 0
		for _, e := range events {
			b, err := proto.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			raw.Write(b)
			walk(e.ProtoReflect(), func(m protoreflect.Message) {
				switch v := m.Interface().(type) {
				case *commonpb.Payload:
					if enc := string(v.GetMetadata()[converter.MetadataEncoding]); enc != codec.Encoding {
						t.Errorf("%s: event %d (%s) has a payload encoded %q", run.GetID(), e.GetEventId(), e.GetEventType(), enc)
					} else if string(v.GetMetadata()[codec.MetadataKeyID]) != "e2e-key" {
						t.Errorf("%s: event %d: payload names key %q", run.GetID(), e.GetEventId(), v.GetMetadata()[codec.MetadataKeyID])
					}
					encrypted++
				case *failurepb.Failure:
					failures++
					if v.GetMessage() != "Encoded failure" || v.GetStackTrace() != "" {
						t.Errorf("%s: event %d: failure message in clear: %q", run.GetID(), e.GetEventId(), v.GetMessage())
					}
				}
			})
		}
		for _, s := range secrets {
			if bytes.Contains(raw.Bytes(), []byte(s)) {
				t.Errorf("%s: the raw history holds %q in clear", run.GetID(), s)
			}
		}
		// The search attributes stay readable: that is how orders are found.
		if !bytes.Contains(raw.Bytes(), []byte(strings.TrimPrefix(run.GetID(), "order-"))) {
			t.Errorf("%s: the order id (a search attribute) is not in clear", run.GetID())
		}
		if encrypted < 10 {
			t.Errorf("%s: only %d payloads found; the walk missed some", run.GetID(), encrypted)
		}
		t.Logf("%s: %d events, %d payloads, all encrypted; %d failures, all encoded", run.GetID(), len(events), encrypted, failures)
		if run == poorRun && failures == 0 {
			t.Errorf("%s: the compensated saga's history has no failure", run.GetID())
		}
		// Decoding needs the key: the plain client cannot read the input.
		var in workflows.OrderInput
		first := events[0].GetWorkflowExecutionStartedEventAttributes().GetInput()
		if err := converter.GetDefaultDataConverter().FromPayloads(first, &in); err == nil {
			t.Errorf("%s: the input decoded without the key: %+v", run.GetID(), in)
		}
	}

	// With the key, the input decodes back.
	events := history(ctx, t, enc, okRun)
	var in workflows.OrderInput
	if err := encOpts.DataConverter.FromPayloads(events[0].GetWorkflowExecutionStartedEventAttributes().GetInput(), &in); err != nil {
		t.Fatal(err)
	}
	if in.ShipTo.Street != secretStreet || in.OrderID != okIn.OrderID || in.Items[0].SKU != "ENC-1" {
		t.Errorf("decoded input %+v", in)
	}
}

func history(ctx context.Context, t *testing.T, c client.Client, run client.WorkflowRun) []*historypb.HistoryEvent {
	t.Helper()
	it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", run.GetID(), err)
		}
		events = append(events, e)
	}
	return events
}

// walk calls visit on m and on every message inside it, except search
// attributes (never encoded by a codec: the server indexes them) and
// headers (context propagation, such as trace ids).
func walk(m protoreflect.Message, visit func(protoreflect.Message)) {
	switch m.Interface().(type) {
	case *commonpb.SearchAttributes, *commonpb.Header:
		return
	}
	visit(m)
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					walk(mv.Message(), visit)
					return true
				})
			}
		case fd.IsList():
			if fd.Kind() == protoreflect.MessageKind {
				for i := 0; i < v.List().Len(); i++ {
					walk(v.List().Get(i).Message(), visit)
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			walk(v.Message(), visit)
		}
		return true
	})
}
