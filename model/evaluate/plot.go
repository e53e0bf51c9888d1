package evaluate

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// PNG size of both plots, in pixels (gonum/plot renders at 96 dpi when
// the size is given in points scaled like this).
const (
	plotW = 960
	plotH = 600
)

var (
	blue   = color.RGBA{31, 119, 180, 255}
	red    = color.RGBA{214, 39, 40, 255}
	green  = color.RGBA{44, 160, 44, 255}
	orange = color.RGBA{255, 127, 14, 255}
)

// histBins is the number of 5-point score bins over 1..99 (the last holds
// 96..99).
const histBins = 20

func binOf(score int) int { return min(histBins-1, (score-1)/5) }

// plotTerms are the words the plots use for what is evaluated: requests
// and attacks for the request model, responses and leaks for the leakage
// model.
type plotTerms struct {
	items    string // "requests"
	positive string // "attack"
	crs      string // "CRS anomaly score"
}

var requestTerms = plotTerms{items: "requests", positive: "attack", crs: "CRS anomaly score"}

// WriteHistogram draws the distribution of overall model scores, one bar
// per label side by side in every 5-point bin, as a share of that label's
// rows on a linear axis. The threshold is the dashed line: rows in the bins
// left of it are flagged.
func WriteHistogram(w io.Writer, rows []Row, threshold int) error {
	return writeHistogram(w, rows, threshold, requestTerms)
}

func writeHistogram(w io.Writer, rows []Row, threshold int, terms plotTerms) error {
	ds := Distribute(rows)
	if terms != requestTerms {
		ds.Attacks.Name = terms.positive + "s"
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Model score by label (flagged: score <= %d)", threshold)
	p.X.Label.Text = fmt.Sprintf("model score, 5-point bins (1 = %s ... 99 = clean)", terms.positive)
	p.Y.Label.Text = fmt.Sprintf("share of the label's %s (%%)", terms.items)
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = false

	type series struct {
		d   *Distribution
		col color.Color
	}
	var present []series
	for _, s := range []series{{ds.Benign, blue}, {ds.Attacks, red}, {ds.Unlabelled, green}} {
		if s.d.N() > 0 {
			present = append(present, s)
		}
	}
	// Bars of a bin sit side by side, each a third of a bin wide at most,
	// so no label's bar can hide another's.
	slot := 0.8 / float64(max(1, len(present)))
	top := 0.0
	for k, s := range present {
		vals := make(plotter.Values, histBins)
		for score := 1; score <= 99; score++ {
			vals[binOf(score)] += float64(s.d.Model[score])
		}
		n := float64(s.d.N())
		for i := range vals {
			vals[i] = 100 * vals[i] / n
			top = max(top, vals[i])
		}
		xys := make(plotter.XYs, histBins)
		for i, v := range vals {
			xys[i] = plotter.XY{X: float64(i) + 0.1 + slot*(float64(k)+0.5), Y: v}
		}
		bars, err := newBars(xys, slot, s.col)
		if err != nil {
			return err
		}
		p.Add(bars)
		p.Legend.Add(fmt.Sprintf("%s (%d)", s.d.Name, s.d.N()), bars)
	}
	// Scores 1..5 are bin 0 = [0, 1) on the axis, so a score t sits at
	// (t-1)/5 + 1/5 = t/5 once its bin is full: the threshold line marks the
	// right edge of the last flagged score.
	tx := float64(threshold) / 5
	top = min(100, 1.08*max(top, 1))
	line, err := plotter.NewLine(plotter.XYs{{X: tx, Y: 0}, {X: tx, Y: top}})
	if err != nil {
		return err
	}
	line.Color = orange
	line.Width = vg.Points(2)
	line.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	p.Add(line)
	p.Legend.Add(fmt.Sprintf("threshold %d", threshold), line)

	p.X.Min, p.X.Max = 0, histBins
	p.Y.Min, p.Y.Max = 0, top
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), -vg.Points(4)
	var ticks []plot.Tick
	for i := 0; i <= histBins; i++ {
		label := ""
		if i%2 == 0 {
			label = fmt.Sprint(min(99, 5*i+1))
			if i == histBins {
				label = "99"
			}
		}
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: label})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	return writePNG(w, p)
}

// bars is a plotter drawing one rectangle per point, centred on X, from 0
// to Y. gonum's BarChart spaces bars one unit apart from a single origin;
// here each label needs its own offset within a bin.
type bars struct {
	xys   plotter.XYs
	width float64
	color color.Color
}

func newBars(xys plotter.XYs, width float64, c color.Color) (*bars, error) {
	if err := plotter.CheckFloats(width); err != nil {
		return nil, err
	}
	return &bars{xys: xys, width: width, color: c}, nil
}

func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, xy := range b.xys {
		if xy.Y <= 0 {
			continue
		}
		x0, x1 := trX(xy.X-b.width/2), trX(xy.X+b.width/2)
		y0, y1 := trY(0), trY(xy.Y)
		poly := []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}
		c.FillPolygon(b.color, c.ClipPolygonXY(poly))
	}
}

func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), 0, 0
	for _, xy := range b.xys {
		xmin = min(xmin, xy.X-b.width/2)
		xmax = max(xmax, xy.X+b.width/2)
		ymax = max(ymax, xy.Y)
	}
	return xmin, xmax, ymin, ymax
}

func (b *bars) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	c.FillPolygon(b.color, c.ClipPolygonY(pts))
}

// WriteROC draws the model's ROC curve and, when CRS ran, CRS's over its
// inbound anomaly threshold, on a logarithmic FPR axis (a WAF operates at
// small false-positive rates). The curves differ in colour, dash and marker,
// so one lying on the other still shows; each marks its default operating
// point. Curves are drawn as steps between operating points. An FPR of zero cannot sit on a log axis and is drawn at the floor,
// half a benign request, which the axis label states.
func WriteROC(w io.Writer, rows []Row, rep *Report) error {
	return writeROC(w, rows, rep, requestTerms)
}

func writeROC(w io.Writer, rows []Row, rep *Report, terms plotTerms) error {
	ds := Distribute(rows)
	p := plot.New()
	p.Title.Text = fmt.Sprintf("ROC: %ss flagged against benign %s flagged", terms.positive, terms.items)
	nb := ds.Benign.N()
	floor := 1e-4
	if nb > 0 {
		floor = 0.5 / float64(nb)
	}
	p.X.Label.Text = fmt.Sprintf("false-positive rate, log scale (0 drawn at %.2g%%, half of one of %d benign %s)", 100*floor, nb, terms.items)
	p.Y.Label.Text = "true-positive rate (%)"
	p.Add(plotter.NewGrid())
	// The curves rise to the right; the top-left corner stays empty.
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), -vg.Points(8)
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = percentLogTicks{}
	p.X.Min, p.X.Max = floor, 1
	p.Y.Min, p.Y.Max = 0, 100
	var yticks []plot.Tick
	for v := 0; v <= 100; v += 10 {
		yticks = append(yticks, plot.Tick{Value: float64(v), Label: fmt.Sprint(v)})
	}
	p.Y.Tick.Marker = plot.ConstantTicks(yticks)

	if ds.Attacks.N() == 0 || nb == 0 {
		p.Title.Text = fmt.Sprintf("ROC: no labelled %s and benign rows", terms.positive)
		return writePNG(w, p)
	}
	curve := func(pts []rocPt) plotter.XYs {
		xys := make(plotter.XYs, 0, len(pts))
		for _, pt := range pts {
			xys = append(xys, plotter.XY{X: max(pt.fpr, floor), Y: 100 * pt.tpr})
		}
		return xys
	}
	add := func(name string, xys plotter.XYs, col color.Color, dashes []vg.Length, shape draw.GlyphDrawer, op plotter.XY) error {
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return err
		}
		l.Color, l.Width, l.Dashes = col, vg.Points(2), dashes
		// Between two operating points only the lower one's TPR is
		// guaranteed: a straight segment on a log axis would promise more.
		l.StepStyle = plotter.PostStep
		pts.Color, pts.Shape, pts.Radius = col, shape, vg.Points(2.5)
		p.Add(l, pts)
		mark, err := plotter.NewScatter(plotter.XYs{op})
		if err != nil {
			return err
		}
		mark.Color, mark.Shape, mark.Radius = col, shape, vg.Points(7)
		p.Add(mark)
		p.Legend.Add(name, l, pts)
		return nil
	}
	t := rep.Threshold
	modelOp := plotter.XY{X: max(ds.Benign.ModelRate(t), floor), Y: 100 * ds.Attacks.ModelRate(t)}
	if err := add(fmt.Sprintf("model, AUC %.4f (large mark: threshold %d)", rep.ModelAUC, t),
		curve(modelROC(ds.Attacks, ds.Benign)), blue, nil, draw.CircleGlyph{}, modelOp); err != nil {
		return err
	}
	if rep.CRS && ds.Benign.CRSN() > 0 && ds.Attacks.CRSN() > 0 {
		crsOp := plotter.XY{
			X: max(float64(ds.Benign.CRSBlocked)/float64(ds.Benign.CRSN()), floor),
			Y: 100 * float64(ds.Attacks.CRSBlocked) / float64(ds.Attacks.CRSN()),
		}
		if err := add(fmt.Sprintf("%s, AUC %.4f (large mark: blocked as configured)", terms.crs, rep.CRSAUC),
			curve(crsROC(ds.Attacks, ds.Benign)), red, []vg.Length{vg.Points(8), vg.Points(4)}, draw.TriangleGlyph{}, crsOp); err != nil {
			return err
		}
	}
	return writePNG(w, p)
}

// percentLogTicks labels each decade of a log axis of rates as a percentage.
type percentLogTicks struct{}

func (percentLogTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		v := math.Pow(10, e)
		if v >= lo && v <= hi {
			ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%g%%", 100*v)})
		}
		for m := 2.0; m < 10; m++ {
			if mv := m * v; mv >= lo && mv <= hi {
				ticks = append(ticks, plot.Tick{Value: mv})
			}
		}
	}
	return ticks
}

func writePNG(w io.Writer, p *plot.Plot) error {
	// 72 points per inch: a size in points at 96 dpi gives these pixels.
	wt, err := p.WriterTo(vg.Length(plotW)*0.75, vg.Length(plotH)*0.75, "png")
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}
