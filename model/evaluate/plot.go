package evaluate

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"sort"
	"strings"
)

// The plots are drawn with the standard library only: a few lines, bars
// and a 3x5 pixel font are all a score histogram and a ROC curve need.

var (
	black  = color.RGBA{0, 0, 0, 255}
	grey   = color.RGBA{210, 210, 210, 255}
	blue   = color.RGBA{31, 119, 180, 255}
	red    = color.RGBA{214, 39, 40, 255}
	orange = color.RGBA{255, 127, 14, 255}
	green  = color.RGBA{44, 160, 44, 255}
)

// font3x5 rows are 3-bit masks, top to bottom.
var font3x5 = map[rune][5]uint8{
	'0': {7, 5, 5, 5, 7}, '1': {2, 6, 2, 2, 7}, '2': {7, 1, 7, 4, 7}, '3': {7, 1, 7, 1, 7},
	'4': {5, 5, 7, 1, 1}, '5': {7, 4, 7, 1, 7}, '6': {7, 4, 7, 5, 7}, '7': {7, 1, 1, 2, 2},
	'8': {7, 5, 7, 5, 7}, '9': {7, 5, 7, 1, 7}, 'A': {2, 5, 7, 5, 5}, 'B': {6, 5, 6, 5, 6},
	'C': {7, 4, 4, 4, 7}, 'D': {6, 5, 5, 5, 6}, 'E': {7, 4, 6, 4, 7}, 'F': {7, 4, 6, 4, 4},
	'G': {7, 4, 5, 5, 7}, 'H': {5, 5, 7, 5, 5}, 'I': {7, 2, 2, 2, 7}, 'J': {1, 1, 1, 5, 7},
	'K': {5, 5, 6, 5, 5}, 'L': {4, 4, 4, 4, 7}, 'M': {5, 7, 7, 5, 5}, 'N': {6, 5, 5, 5, 5},
	'O': {7, 5, 5, 5, 7}, 'P': {7, 5, 7, 4, 4}, 'Q': {7, 5, 5, 7, 1}, 'R': {7, 5, 6, 5, 5},
	'S': {7, 4, 7, 1, 7}, 'T': {7, 2, 2, 2, 2}, 'U': {5, 5, 5, 5, 7}, 'V': {5, 5, 5, 5, 2},
	'W': {5, 5, 7, 7, 5}, 'X': {5, 5, 2, 5, 5}, 'Y': {5, 5, 2, 2, 2}, 'Z': {7, 1, 2, 4, 7},
	'.': {0, 0, 0, 0, 2}, ',': {0, 0, 0, 2, 4}, ':': {0, 2, 0, 2, 0}, '-': {0, 0, 7, 0, 0},
	'=': {0, 7, 0, 7, 0}, '(': {1, 2, 2, 2, 1}, ')': {4, 2, 2, 2, 4}, '%': {5, 1, 2, 4, 5},
	'/': {1, 1, 2, 4, 4}, '<': {1, 2, 4, 2, 1}, '>': {4, 2, 1, 2, 4}, ' ': {0, 0, 0, 0, 0},
}

type canvas struct{ img *image.RGBA }

func newCanvas(w, h int) *canvas {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	return &canvas{img}
}

func (c *canvas) rect(x0, y0, x1, y1 int, col color.RGBA) {
	for y := min(y0, y1); y <= max(y0, y1); y++ {
		for x := min(x0, x1); x <= max(x0, x1); x++ {
			c.img.SetRGBA(x, y, col)
		}
	}
}

func (c *canvas) line(x0, y0, x1, y1 int, col color.RGBA, width int) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	err := dx + dy
	for {
		c.rect(x0-width/2, y0-width/2, x0+(width-1)/2, y0+(width-1)/2, col)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * err
		if e2 >= dy {
			err += dy
			x0 += sx
		}
		if e2 <= dx {
			err += dx
			y0 += sy
		}
	}
}

// text draws s at scale 2 with its top-left corner at x, y.
func (c *canvas) text(x, y int, s string, col color.RGBA) {
	const sc = 2
	for _, r := range strings.ToUpper(s) {
		g, ok := font3x5[r]
		if !ok {
			g = font3x5['-']
		}
		for row := 0; row < 5; row++ {
			for bit := 0; bit < 3; bit++ {
				if g[row]&(4>>bit) != 0 {
					c.rect(x+bit*sc, y+row*sc, x+bit*sc+sc-1, y+row*sc+sc-1, col)
				}
			}
		}
		x += 4 * sc
	}
}

func textWidth(s string) int { return len(s) * 8 }

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

const (
	plotW, plotH = 720, 480
	left, right  = 70, 20
	top, bottom  = 40, 60
)

// WriteHistogram draws the distribution of overall scores (1..99 in 5-point
// bins), one bar colour per label; counts are normalised per label so that
// a small attack set stays visible next to a large benign one.
func WriteHistogram(w io.Writer, rows []Row, threshold int) error {
	const bins = 20
	labels := []string{"benign", "attack", "unlabelled"}
	cols := map[string]color.RGBA{"benign": blue, "attack": red, "unlabelled": green}
	counts := map[string]*[bins]int{}
	totals := map[string]int{}
	for i := range rows {
		l := rows[i].Label
		if !rows[i].Labelled() {
			l = "unlabelled"
		}
		if counts[l] == nil {
			counts[l] = &[bins]int{}
		}
		b := min(bins-1, (rows[i].Scores.Overall-1)*bins/99)
		counts[l][b]++
		totals[l]++
	}
	var present []string
	for _, l := range labels {
		if totals[l] > 0 {
			present = append(present, l)
		}
	}
	c := newCanvas(plotW, plotH)
	pw, ph := plotW-left-right, plotH-top-bottom
	c.text(left, 12, "SCORE HISTOGRAM (1 = ATTACK, 99 = CLEAN), SHARE OF EACH LABEL", black)
	for _, f := range []float64{0.25, 0.5, 0.75, 1} {
		y := top + ph - int(f*float64(ph))
		c.line(left, y, left+pw, y, grey, 1)
		s := fmt.Sprintf("%d%%", int(f*100))
		c.text(left-8-textWidth(s), y-5, s, black)
	}
	if len(present) > 0 {
		slot := pw / bins
		bw := max(1, (slot-4)/len(present))
		for b := 0; b < bins; b++ {
			for k, l := range present {
				frac := float64(counts[l][b]) / float64(totals[l])
				// sqrt keeps the long tails readable next to the main mass.
				h := int(sqrtScale(frac) * float64(ph))
				x0 := left + b*slot + 2 + k*bw
				if h > 0 {
					c.rect(x0, top+ph-h, x0+bw-1, top+ph, cols[l])
				}
			}
		}
	}
	tx := left + (threshold*pw)/99
	c.line(tx, top, tx, top+ph, orange, 2)
	c.text(tx+4, top+4, fmt.Sprintf("T=%d", threshold), orange)
	c.line(left, top+ph, left+pw, top+ph, black, 1)
	c.line(left, top, left, top+ph, black, 1)
	for s := 1; s <= 99; s += 14 {
		x := left + (s*pw)/99
		c.text(x-textWidth(fmt.Sprint(s))/2, top+ph+8, fmt.Sprint(s), black)
	}
	c.text(left+pw/2-textWidth("SCORE")/2, top+ph+28, "SCORE", black)
	lx := left + 10
	for _, l := range present {
		c.rect(lx, plotH-16, lx+10, plotH-6, cols[l])
		s := fmt.Sprintf("%s (%d)", l, totals[l])
		c.text(lx+14, plotH-16, s, black)
		lx += textWidth(s) + 40
	}
	c.text(plotW-right-textWidth("SQRT SCALE"), plotH-16, "SQRT SCALE", black)
	return png.Encode(w, c.img)
}

func sqrtScale(f float64) float64 {
	if f <= 0 {
		return 0
	}
	// Newton is plenty for a plot and keeps math out of this file's imports.
	x := f
	for i := 0; i < 20; i++ {
		x = 0.5 * (x + f/x)
	}
	return x
}

type rocPt struct{ fpr, tpr float64 }

func rocCurve(atk, ben []float64) []rocPt {
	cuts := map[float64]bool{}
	for _, v := range atk {
		cuts[v] = true
	}
	for _, v := range ben {
		cuts[v] = true
	}
	vals := make([]float64, 0, len(cuts))
	for v := range cuts {
		vals = append(vals, v)
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(vals)))
	sa := append([]float64(nil), atk...)
	sb := append([]float64(nil), ben...)
	sort.Float64s(sa)
	sort.Float64s(sb)
	above := func(s []float64, v float64) float64 {
		i := sort.SearchFloat64s(s, v)
		return float64(len(s)-i) / float64(len(s))
	}
	pts := []rocPt{{0, 0}}
	for _, v := range vals {
		pts = append(pts, rocPt{above(sb, v), above(sa, v)})
	}
	return append(pts, rocPt{1, 1})
}

// WriteROC draws the model's ROC curve and, when CRS ran, CRS's (from its
// anomaly score). The x axis is logarithmic from 0.01% FPR, where a WAF
// operates.
func WriteROC(w io.Writer, rows []Row, rep *Report) error {
	var atk, ben, atkC, benC []float64
	for i := range rows {
		r := &rows[i]
		if !r.Labelled() {
			continue
		}
		if r.Label == "attack" {
			atk = append(atk, float64(100-r.Scores.Overall))
			atkC = append(atkC, float64(r.CRSScore))
		} else {
			ben = append(ben, float64(100-r.Scores.Overall))
			benC = append(benC, float64(r.CRSScore))
		}
	}
	c := newCanvas(plotW, plotH)
	pw, ph := plotW-left-right, plotH-top-bottom
	c.text(left, 12, "ROC (LOG FPR AXIS)", black)
	decades := []float64{1e-4, 1e-3, 1e-2, 1e-1, 1}
	xOf := func(fpr float64) int {
		f := max(fpr, 1e-4)
		// log10 by repeated division keeps this dependency-free and exact
		// enough for pixels.
		d := 0.0
		for f < 1 {
			f *= 10
			d++
		}
		frac := (4 - d + (f-1)/9) / 4
		if fpr >= 1 {
			frac = 1
		}
		return left + int(frac*float64(pw))
	}
	yOf := func(tpr float64) int { return top + ph - int(tpr*float64(ph)) }
	for _, d := range decades {
		x := xOf(d)
		c.line(x, top, x, top+ph, grey, 1)
		s := fmt.Sprintf("%g%%", d*100)
		c.text(x-textWidth(s)/2, top+ph+8, s, black)
	}
	for _, t := range []float64{0.25, 0.5, 0.75, 1} {
		y := yOf(t)
		c.line(left, y, left+pw, y, grey, 1)
		s := fmt.Sprintf("%d%%", int(t*100))
		c.text(left-8-textWidth(s), y-5, s, black)
	}
	c.line(left, top+ph, left+pw, top+ph, black, 1)
	c.line(left, top, left, top+ph, black, 1)
	c.text(left+pw/2-textWidth("FALSE POSITIVE RATE")/2, top+ph+28, "FALSE POSITIVE RATE", black)
	draw := func(pts []rocPt, col color.RGBA) {
		for i := 1; i < len(pts); i++ {
			c.line(xOf(pts[i-1].fpr), yOf(pts[i-1].tpr), xOf(pts[i].fpr), yOf(pts[i-1].tpr), col, 2)
			c.line(xOf(pts[i].fpr), yOf(pts[i-1].tpr), xOf(pts[i].fpr), yOf(pts[i].tpr), col, 2)
		}
	}
	legendX := left + 10
	if len(atk) > 0 && len(ben) > 0 {
		draw(rocCurve(atk, ben), blue)
		s := fmt.Sprintf("MODEL AUC %.4f", rep.ModelAUC)
		c.rect(legendX, plotH-16, legendX+10, plotH-6, blue)
		c.text(legendX+14, plotH-16, s, black)
		legendX += textWidth(s) + 40
		if rep.CRS {
			draw(rocCurve(atkC, benC), red)
			s = fmt.Sprintf("CRS AUC %.4f", rep.CRSAUC)
			c.rect(legendX, plotH-16, legendX+10, plotH-6, red)
			c.text(legendX+14, plotH-16, s, black)
		}
	} else {
		c.text(left+20, top+20, "NO LABELLED ATTACK AND BENIGN ROWS", black)
	}
	return png.Encode(w, c.img)
}
