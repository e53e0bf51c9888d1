package filter

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the filter's Prometheus collectors. They are registered on the
// registry the caller passes, never on a global one.
type Metrics struct {
	streams      prometheus.Counter
	activeStream prometheus.Gauge
	messages     *prometheus.CounterVec
	decisions    *prometheus.CounterVec
	blocksByRule *prometheus.CounterVec
	phase        *prometheus.HistogramVec
	errors       *prometheus.CounterVec
	parked       prometheus.Counter
	waiting      prometheus.Gauge
}

// NewMetrics registers the filter's collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		streams: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bulwark_streams_total", Help: "ext_proc streams opened by Envoy."}),
		activeStream: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bulwark_streams_active", Help: "ext_proc streams open now."}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulwark_messages_total", Help: "ext_proc messages received, by type."}, []string{"type"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulwark_decisions_total", Help: "Verdicts by direction and action (allow, flag, block, would_block, error_open, error_closed)."},
			[]string{"direction", "action"}),
		blocksByRule: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulwark_blocks_by_rule_total", Help: "Blocks by the rule that decided; CRS and user rule ids only, so cardinality is bounded by the rule set."},
			[]string{"rule_id"}),
		phase: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bulwark_phase_duration_seconds", Help: "Time spent handling one ext_proc message, by message type.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25},
		}, []string{"phase"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulwark_stream_errors_total", Help: "Streams ended by an error, by reason."}, []string{"reason"}),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bulwark_waiting_transactions", Help: "Streams waiting for a request body with their Coraza transaction alive (bounded by max_waiting_transactions)."}),
		parked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bulwark_parked_exchanges_total", Help: "Streams that released their Coraza transaction while waiting for a request body, past max_waiting_transactions; phase 1 ran again when the body came."}),
	}
	if reg != nil {
		reg.MustRegister(m.streams, m.activeStream, m.messages, m.decisions, m.blocksByRule, m.phase, m.errors, m.parked, m.waiting)
	}
	return m
}

func (m *Metrics) blocked(ruleID int) {
	label := "other"
	if ruleID > 0 && ruleID < 100_000_000 {
		label = strconv.Itoa(ruleID)
	}
	m.blocksByRule.WithLabelValues(label).Inc()
}
