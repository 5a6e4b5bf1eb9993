package plot

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure sizes and resolution. A PNG is Width×Height at DPI dots per inch
// (the scores figure: 960×512 pixels; the heatmap: 672×576).
const (
	DPI = 96

	ScoresWidth   = 10 * vg.Inch
	ScoresHeight  = (16 * vg.Inch) / 3
	HeatmapWidth  = 7 * vg.Inch
	HeatmapHeight = 6 * vg.Inch
)

// Pixels is a figure length in PNG pixels.
func Pixels(l vg.Length) int { return int(math.Round(float64(l/vg.Inch) * DPI)) }

// Font sizes, fixed so every figure looks the same.
const (
	titleSize  = 13
	labelSize  = 11
	tickSize   = 9
	legendSize = 9
)

// passColors gives the paper's passes fixed colours; others take the
// fallback palette in label order.
var passColors = map[string]color.RGBA{
	"skip":            {0x1f, 0x77, 0xb4, 0xff},
	"middle-repeat":   {0xd6, 0x27, 0x28, 0xff},
	"reverse":         {0xff, 0x7f, 0x0e, 0xff},
	"random":          {0x2c, 0xa0, 0x2c, 0xff},
	"parallel":        {0x94, 0x67, 0xbd, 0xff},
	"looped-parallel": {0x8c, 0x56, 0x4b, 0xff},
}

var fallback = []color.RGBA{
	{0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff}, {0xbc, 0xbd, 0x22, 0xff}, {0x17, 0xbe, 0xcf, 0xff},
}

func newPlot(title, xlabel, ylabel string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(gplot.DefaultFont, titleSize)
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(gplot.DefaultFont, labelSize)
		a.Tick.Label.Font = font.From(gplot.DefaultFont, tickSize)
	}
	p.Legend.TextStyle.Font = font.From(gplot.DefaultFont, legendSize)
	return p
}

// Scores draws normalized score against x (M, or M/T), one line per
// series with its seed spread (min to max) as error bars, and grey
// reference lines at 0 (random guessing, dotted) and 1 (the full model,
// dashed). The legend sits in a strip to the right. It writes base.png and
// base.svg.
func Scores(base, title, xlabel string, series []Series) error {
	if len(series) == 0 {
		return errors.New("plot: no series to draw")
	}
	p := newPlot(title, xlabel, "normalized score (0 = random, 1 = full model)")
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, pt := range s.Points {
			xmin, xmax = min(xmin, pt.X), max(xmax, pt.X)
		}
	}
	if xmin == xmax {
		xmin, xmax = xmin-0.5, xmax+0.5
	}
	for _, ref := range []struct {
		y      float64
		label  string
		dashes []vg.Length
	}{{0, "random baseline", []vg.Length{vg.Points(1.5), vg.Points(2.5)}}, {1, "full model", []vg.Length{vg.Points(6), vg.Points(3)}}} {
		l, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: ref.y}, {X: xmax, Y: ref.y}})
		if err != nil {
			return err
		}
		l.LineStyle.Color = color.Gray{0x60}
		l.LineStyle.Width = vg.Points(1)
		l.LineStyle.Dashes = ref.dashes
		p.Add(l)
		p.Legend.Add(ref.label, l)
	}
	next := 0
	for _, s := range series {
		c, ok := passColors[s.Pass]
		if !ok {
			c = fallback[next%len(fallback)]
			next++
		}
		if s.Spread() {
			bars, err := plotter.NewYErrorBars(spread(s.Points))
			if err != nil {
				return fmt.Errorf("plot: series %s: %w", s.Label, err)
			}
			bars.LineStyle.Color, bars.LineStyle.Width, bars.CapWidth = c, vg.Points(1), vg.Points(6)
			p.Add(bars)
		}
		xys := make(plotter.XYs, len(s.Points))
		for i, pt := range s.Points {
			xys[i] = plotter.XY{X: pt.X, Y: pt.Y}
		}
		line, marks, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("plot: series %s: %w", s.Label, err)
		}
		line.LineStyle.Color, line.LineStyle.Width = c, vg.Points(1.5)
		marks.GlyphStyle.Color, marks.GlyphStyle.Radius, marks.GlyphStyle.Shape = c, vg.Points(2.5), draw.CircleGlyph{}
		p.Add(line, marks)
		label := s.Label
		if s.Spread() {
			label += " (bars: seed min-max)"
		}
		p.Legend.Add(label, line, marks)
	}
	p.Y.Min = math.Min(-0.1, p.Y.Min)
	p.Y.Max = math.Max(1.1, p.Y.Max)
	pad := (xmax - xmin) * 0.04
	p.X.Min, p.X.Max = xmin-pad, xmax+pad
	// The legend goes beside the plot, never over the lines.
	legend := p.Legend
	p.Legend = gplot.NewLegend()
	legend.Top, legend.Left = true, true
	return save(base, ScoresWidth, ScoresHeight, func(c draw.Canvas) {
		p.Draw(draw.Crop(c, 0, -legendWidth, 0, 0))
		legend.Draw(draw.Crop(c, ScoresWidth-legendWidth+vg.Points(8), 0, 0, -vg.Points(24)))
	})
}

// legendWidth is the strip right of a scores plot that holds its legend.
const legendWidth = 2.6 * vg.Inch

// spread is a series' points as gonum's error bars: Y with Lo and Hi.
type spread []Point

func (s spread) Len() int                        { return len(s) }
func (s spread) XY(i int) (float64, float64)     { return s[i].X, s[i].Y }
func (s spread) YError(i int) (float64, float64) { return s[i].Y - s[i].Lo, s[i].Hi - s[i].Y }

// grid is a square matrix as a heatmap grid: column c, row r is m[r][c].
type grid [][]float64

func (g grid) Dims() (c, r int)   { return len(g), len(g) }
func (g grid) Z(c, r int) float64 { return g[r][c] }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }
func (g grid) rangeZ() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, row := range g {
		for _, v := range row {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return lo, hi
}

// Heatmap draws square matrix m (the similarity of states x_i and x_j at
// row i, column j) with state indices on both axes and a colour bar. The
// colours span the matrix's own range, or [hi-1, hi] when all values are
// equal. It writes base.png and base.svg.
func Heatmap(base, title string, m [][]float64) error {
	n := len(m)
	if n == 0 {
		return errors.New("plot: empty matrix")
	}
	for i, row := range m {
		if len(row) != n {
			return fmt.Errorf("plot: heatmap row %d has %d values, want %d (a square matrix)", i, len(row), n)
		}
	}
	g := grid(m)
	lo, hi := g.rangeZ()
	if !(hi > lo) {
		lo = hi - 1
	}
	cmap := moreland.ExtendedBlackBody()
	cmap.SetMin(lo)
	cmap.SetMax(hi)
	pal := cmap.Palette(255)
	h := plotter.NewHeatMap(g, pal)
	h.Min, h.Max = lo, hi
	p := newPlot(title, "state j (x0 = embedding output, xj = output of block j-1)", "state i")
	p.Add(h)
	p.X.Padding, p.Y.Padding = 0, 0
	ticks := stateTicks(n)
	p.X.Tick.Marker, p.Y.Tick.Marker = ticks, ticks

	bar := newPlot("", "", "cosine similarity")
	bar.Add(&plotter.ColorBar{ColorMap: cmap, Vertical: true})
	bar.HideX()
	bar.Y.Padding = 0

	const barWidth = 1.1 * vg.Inch
	return save(base, HeatmapWidth, HeatmapHeight, func(c draw.Canvas) {
		p.Draw(draw.Crop(c, 0, -barWidth, 0, 0))
		right := draw.Crop(c, HeatmapWidth-barWidth, 0, 0, 0)
		// Line the bar up with the heatmap's data area, roughly: leave
		// room for the title above and the axis below.
		bar.Draw(draw.Crop(right, vg.Points(10), -vg.Points(30), vg.Points(44), -vg.Points(24)))
	})
}

// stateTicks labels every state for small models and every k-th for big
// ones, at most about 17 labels.
type stateTicks int

func (n stateTicks) Ticks(lo, hi float64) []gplot.Tick {
	step := 1
	for int(n)/step > 16 {
		step *= 2
	}
	var t []gplot.Tick
	for i := 0; i < int(n); i++ {
		label := ""
		if i%step == 0 {
			label = strconv.Itoa(i)
		}
		t = append(t, gplot.Tick{Value: float64(i), Label: label})
	}
	return t
}

// save renders draw onto a PNG and an SVG canvas of w×h and writes
// base.png and base.svg.
func save(base string, w, h vg.Length, drawFn func(draw.Canvas)) error {
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	fillWhite(img, w, h)
	drawFn(draw.New(img))
	var png bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&png); err != nil {
		return fmt.Errorf("plot: %s.png: %w", base, err)
	}
	svg := vgsvg.New(w, h)
	drawFn(draw.New(svg))
	var sv bytes.Buffer
	if _, err := svg.WriteTo(&sv); err != nil {
		return fmt.Errorf("plot: %s.svg: %w", base, err)
	}
	if err := os.WriteFile(base+".png", png.Bytes(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(base+".svg", sv.Bytes(), 0o644)
}

func fillWhite(c vg.Canvas, w, h vg.Length) {
	c.SetColor(color.White)
	var p vg.Path
	p.Move(vg.Point{})
	p.Line(vg.Point{X: w})
	p.Line(vg.Point{X: w, Y: h})
	p.Line(vg.Point{Y: h})
	p.Close()
	c.Fill(p)
}
