package uitest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/sagaclient"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

// Selectors of the Temporal Web UI 2.42 (data-testid attributes where it
// has them).
const (
	selListRow        = `[data-testid="workflows-summary-configurable-table-row"]`
	selListHeader     = `[data-testid^="workflows-summary-table-header-cell-"]`
	selEventTable     = `[data-testid="event-summary-table"]`
	selTimeline       = `svg text`
	selMetadataTab    = `[data-testid="user-metadata-tab"]`
	selMetadataFrame  = `iframe[title="output"]`
	selQueriesTab     = `[data-testid="queries-tab"]`
	selQuerySelect    = `[data-testid="query-select"]`
	selQueryButton    = `[data-testid="query-select-button"]`
	selQueryOptions   = `#query-select-select [role="option"]`
	selQueryResult    = `[data-testid="query-result"]`
	selWorkflowHeader = `[data-testid="workflow-id-heading"]`
)

// sagaColumns are the list's columns: the default ones and the sagas'
// search attributes. The UI keeps them in localStorage, per namespace.
var sagaColumns = []string{"Status", "Workflow ID", "SagaStatus", "FailedStep", "CustomerId", "OrderId", "Start", "End"}

// TestWebUI places orders, then checks in headless Chromium what an
// operator sees in the Web UI: the sagas listed by their search attributes,
// a compensated saga's steps and compensations with their summaries, its
// summary and details, and its state query.
func TestWebUI(t *testing.T) {
	cfg := testenv.Config(t, config.EnvTemporalAddress, config.EnvTemporalUIURL,
		config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	b := newBrowser(t, ctx, cfg.TemporalUIURL)
	s := startSagas(t, temporalclient.Options{})

	shipFails := order("bob", "us", services.Item{SKU: "SKU-1", Quantity: 2}, services.Item{SKU: "SKU-2", Quantity: 1})
	shipFails.Demo.FailAt = workflows.StepCreateShipment
	cannotPay := order("carol", "eu", services.Item{SKU: "SKU-2", Quantity: 1}) // 40.00 of her 20.00
	completes := order("alice", "apac", services.Item{SKU: "SKU-1", Quantity: 2})
	got := s.place([]string{sagaclient.Compensated, sagaclient.Compensated, sagaclient.Completed}, shipFails, cannotPay, completes)
	compensated, declined, completed := got[0], got[1], got[2]
	s.listed(compensated, `SagaStatus="COMPENSATED" AND FailedStep="CreateShipment"`)
	s.listed(declined, `SagaStatus="COMPENSATED" AND FailedStep="ChargePayment"`)
	s.listed(completed, `SagaStatus="COMPLETED"`)

	ns := "/namespaces/" + url.PathEscape(cfg.TemporalNamespace)
	b.setColumns(cfg.TemporalNamespace, ns+"/workflows")

	// The list, filtered by SagaStatus: the compensated sagas, with their
	// search attributes as columns; not the completed one.
	b.open(ns + "/workflows?query=" + url.QueryEscape(`SagaStatus="COMPENSATED"`))
	b.waitTexts("the list filtered by SagaStatus shows the compensated sagas", selListRow,
		compensated.workflowID(), declined.workflowID())
	b.waitTexts("the list shows the search attributes as columns", selListHeader, "SagaStatus", "FailedStep", "CustomerId")
	b.waitTexts("the row of a compensated saga shows its search attributes", rowOf(compensated),
		"COMPENSATED", "CreateShipment", "bob")
	if list := b.text(`main`); strings.Contains(list, completed.workflowID()) {
		b.fail("the list filtered by SagaStatus=\"COMPENSATED\" shows the completed saga %s", completed.workflowID())
	}
	b.screenshot("list-compensated")

	// Failures by step, and one customer's orders.
	b.open(ns + "/workflows?query=" + url.QueryEscape(`SagaStatus="COMPENSATED" AND FailedStep="ChargePayment" AND CustomerId="carol"`))
	b.waitTexts("the list filtered by FailedStep and CustomerId", selListRow, declined.workflowID())
	if list := b.text(`main`); strings.Contains(list, compensated.workflowID()) {
		b.fail("the list filtered by FailedStep=\"ChargePayment\" shows %s, which failed at CreateShipment", compensated.workflowID())
	}

	// A compensated saga: every step and compensation in the timeline and
	// the event history, by activity name and summary.
	b.open(ns + "/workflows?query=" + url.QueryEscape(`SagaStatus="COMPENSATED"`))
	b.waitTexts("the compensated saga listed", selListRow, compensated.workflowID())
	b.do("open the compensated saga", chromedp.Click(chromedp.CSS(rowOf(compensated)+` a[href*="/workflows/`+compensated.workflowID()+`/"]`)))
	b.waitTexts("the saga's page", selWorkflowHeader, compensated.workflowID())
	in := compensated.in
	steps := []string{
		"PriceOrder • Price 2 x SKU-1, 1 x SKU-2",
		"CreateOrder • Create order " + in.OrderID + " for bob",
		"ReserveStock • Reserve 2 x SKU-1, 1 x SKU-2 in us",
		"ChargePayment • Charge bob 65.00",
		"CreateShipment • Ship order " + in.OrderID + " to DE",
	}
	compensations := []string{
		"CancelShipment • Compensate CreateShipment: cancel the shipment of order " + in.OrderID,
		"RefundPayment • Compensate ChargePayment: refund bob 65.00 of order " + in.OrderID,
		"ReleaseStock • Compensate ReserveStock: release 2 x SKU-1, 1 x SKU-2 of order " + in.OrderID,
		"CancelOrder • Compensate CreateOrder: cancel order " + in.OrderID,
	}
	b.waitTexts("the timeline shows the steps", selTimeline, steps...)
	b.waitTexts("the timeline shows the compensations", selTimeline, compensations...)
	b.waitTexts("the event history shows the compensations' summaries", selEventTable,
		"ReleaseStock", "Compensate ReserveStock: release 2 x SKU-1, 1 x SKU-2 of order "+in.OrderID,
		"RefundPayment", "Compensate ChargePayment: refund bob 65.00 of order "+in.OrderID)
	b.screenshot("saga-history")

	// Its summary, static details and current details.
	b.do("open User Metadata", chromedp.Click(chromedp.CSS(selMetadataTab)))
	b.waitTexts("the saga's summary and details", selMetadataFrame,
		in.Summary(), "Ship to: Ada Lovelace, 1 Main St, 10115 Berlin, DE",
		"Order: "+in.OrderID+" for bob in us, total 65.00", "Status: COMPENSATED",
		"Failed step: CreateShipment", "Compensations run: CancelOrder, ReleaseStock, RefundPayment, CancelShipment")
	b.screenshot("saga-details")

	// The state query, listed with its description and run from the UI.
	b.do("open Queries", chromedp.Click(chromedp.CSS(selQueriesTab)))
	b.waitTexts("the state query is the saga's query", selQuerySelect, workflows.QueryState)
	b.do("open the list of queries", chromedp.Click(chromedp.CSS(selQueryButton)))
	b.waitTexts("the state query is described", selQueryOptions, workflows.QueryState, "every step's status")
	b.clickText("choose the state query", selQueryOptions+" span", workflows.QueryState)
	b.clickText("run the state query", "button", "Run Query")
	b.waitTexts("the state query's result", selQueryResult,
		`"status": "COMPENSATED"`, `"failed_step": "CreateShipment"`, `"compensation": "RefundPayment"`, `"compensation_outcome": "applied"`)
	b.screenshot("saga-query")
}

// rowOf selects the list's row of a saga.
func rowOf(p placed) string {
	return selListRow + `:has(a[href*="/workflows/` + p.workflowID() + `/"])`
}

// setColumns makes the workflow list of namespace show sagaColumns: the UI
// keeps its columns in localStorage, which a page of the UI (path) must be
// open to write.
func (b *browser) setColumns(namespace, path string) {
	b.t.Helper()
	type column struct {
		Label  string `json:"label"`
		Pinned bool   `json:"pinned"`
	}
	cols := make([]column, len(sagaColumns))
	for i, c := range sagaColumns {
		cols[i] = column{Label: c, Pinned: i < 2}
	}
	v, err := json.Marshal(map[string][]column{namespace: cols})
	if err != nil {
		b.t.Fatal(err)
	}
	b.open(path)
	b.do("set the list's columns", chromedp.Evaluate[chromedp.Void](
		`localStorage.setItem("namespace-workflow-table-columns", `+jsStrings([]string{string(v)})+`[0])`))
}

// clickText clicks the element css selects whose text is text. It clicks
// through the DOM, not the mouse, so that a menu still moving into place
// cannot take the click.
func (b *browser) clickText(what, css, text string) {
	b.t.Helper()
	clicked, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const e = Array.from(document.querySelectorAll(%q)).find(e => e.innerText.trim() === %q);
		if (e) e.click();
		return !!e;
	})()`, css, text)))
	if err != nil || !clicked {
		b.fail("%s: no %s reads %q (%v)", what, css, text, err)
	}
}
