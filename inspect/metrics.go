package inspect

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bulwark-waf/bulwark/model"
)

// Metrics are the core's Prometheus collectors: the model's calls, scores,
// overrides and the classes it blocked. They are registered on the
// registry the caller passes, never on a global one, and outlive reloads.
type Metrics struct {
	mlCalls     prometheus.Counter
	overrides   prometheus.Counter
	mlScore     *prometheus.HistogramVec
	blocksClass *prometheus.CounterVec
	leakScore   *prometheus.HistogramVec
	leaks       *prometheus.CounterVec
	flips       *prometheus.CounterVec
	candidate   prometheus.Counter
}

// NewMetrics registers the core's collectors on reg (nil registers none).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		mlCalls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bulwark_model_calls_total", Help: "Requests the ML model scored."}),
		overrides: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bulwark_model_overrides_total", Help: "Requests CRS would have blocked that the model passed (mode and)."}),
		mlScore: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bulwark_model_score", Help: "Model scores (1 attack .. 99 clean), overall and per class.",
			Buckets: []float64{5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99},
		}, []string{"class"}),
		blocksClass: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulwark_blocks_by_class_total", Help: "Blocks by the model's attack class (crs when the model did not flag one)."}, []string{"class"}),
		leakScore: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bulwark_leak_score", Help: "Leakage model scores of response bodies (1 leak .. 99 clean), overall and per class.",
			Buckets: []float64{5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99},
		}, []string{"class"}),
		leaks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulwark_response_leaks_total", Help: "Responses that leaked data, by class and the action taken (log, flag, mask, block)."}, []string{"class", "action"}),
		flips: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulwark_candidate_flips_total", Help: "Requests the shadow candidate model judges differently from the live one, by class (overall included) and direction (to_attack, to_clean)."},
			[]string{"class", "direction"}),
		candidate: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bulwark_candidate_calls_total", Help: "Requests the shadow candidate model scored."}),
	}
	if reg != nil {
		reg.MustRegister(m.mlCalls, m.overrides, m.mlScore, m.blocksClass, m.leakScore, m.leaks, m.flips, m.candidate)
	}
	return m
}

func (m *Metrics) blockedClass(s *model.Scores, threshold int) {
	n := 0
	if s != nil {
		for c, v := range s.Class {
			if v <= threshold {
				m.blocksClass.WithLabelValues(c).Inc()
				n++
			}
		}
	}
	if n == 0 {
		m.blocksClass.WithLabelValues("crs").Inc()
	}
}

func (m *Metrics) leak(lr *LeakReport) {
	m.leakScore.WithLabelValues("overall").Observe(float64(lr.Scores.Overall))
	for c, v := range lr.Scores.Class {
		m.leakScore.WithLabelValues(c).Observe(float64(v))
	}
	for _, c := range lr.Leaks {
		m.leaks.WithLabelValues(c, string(lr.Action)).Inc()
	}
}

// candidateFlips counts where the candidate disagrees with the live model
// at threshold, overall and per class.
func (m *Metrics) candidateFlips(live, cand *model.Scores, threshold int) {
	m.candidate.Inc()
	flip := func(class string, a, b int) {
		switch {
		case a > threshold && b <= threshold:
			m.flips.WithLabelValues(class, "to_attack").Inc()
		case a <= threshold && b > threshold:
			m.flips.WithLabelValues(class, "to_clean").Inc()
		}
	}
	flip("overall", live.Overall, cand.Overall)
	for c, v := range live.Class {
		flip(c, v, cand.Class[c])
	}
}
