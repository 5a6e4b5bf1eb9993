package plot

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Method is one method's points in a Pareto figure: one per budget.
type Method struct {
	Label  string
	Points []MethodPoint
}

// MethodPoint is a schedule a method chose: its compute fraction, its
// measured latency in milliseconds (0 when not measured) and its score.
type MethodPoint struct {
	Fraction, LatencyMS, Score float64
}

// methodColors give the search and the baselines fixed colours.
var methodColors = map[string]color.RGBA{
	"search":   {0xd6, 0x27, 0x28, 0xff},
	"shortgpt": {0x1f, 0x77, 0xb4, 0xff},
	"angular":  {0xff, 0x7f, 0x0e, 0xff},
	"sleb":     {0x2c, 0xa0, 0x2c, 0xff},
	"random":   {0x7f, 0x7f, 0x7f, 0xff},
}

// Pareto draws two panels side by side, normalized score against the
// fraction of block compute (left) and against ONNX Runtime latency
// (right), one marker series per method, with the full model at (1, its
// latency, 1). The right panel is left out when no latency was measured.
// It writes base.png and base.svg.
func Pareto(base, title string, fullLatencyMS float64, methods []Method) error {
	if len(methods) == 0 {
		return errors.New("plot: no method to draw")
	}
	withLatency := fullLatencyMS > 0
	panel := func(xlabel string, x func(MethodPoint) float64, fullX float64) (*gplot.Plot, error) {
		p := newPlot("", xlabel, "median normalized score")
		full, err := plotter.NewScatter(plotter.XYs{{X: fullX, Y: 1}})
		if err != nil {
			return nil, err
		}
		full.GlyphStyle.Shape, full.GlyphStyle.Radius, full.GlyphStyle.Color = draw.CrossGlyph{}, vg.Points(4), color.Black
		p.Add(full)
		p.Legend.Add("full model", full)
		next := 0
		for _, m := range methods {
			c, ok := methodColors[m.Label]
			if !ok {
				c = fallback[next%len(fallback)]
				next++
			}
			xys := make(plotter.XYs, 0, len(m.Points))
			for _, pt := range m.Points {
				if !math.IsNaN(pt.Score) {
					xys = append(xys, plotter.XY{X: x(pt), Y: pt.Score})
				}
			}
			if len(xys) == 0 {
				continue
			}
			s, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, fmt.Errorf("plot: %s: %w", m.Label, err)
			}
			s.GlyphStyle.Color, s.GlyphStyle.Radius = c, vg.Points(3.5)
			s.GlyphStyle.Shape = draw.CircleGlyph{}
			if m.Label == "search" {
				s.GlyphStyle.Shape, s.GlyphStyle.Radius = draw.PyramidGlyph{}, vg.Points(4.5)
			}
			p.Add(s)
			p.Legend.Add(m.Label, s)
		}
		p.Legend.Top, p.Legend.Left = false, false
		p.Add(plotter.NewGrid())
		return p, nil
	}
	left, err := panel("fraction of the full model's block compute", func(p MethodPoint) float64 { return p.Fraction }, 1)
	if err != nil {
		return err
	}
	left.Title.Text = title
	var right *gplot.Plot
	if withLatency {
		if right, err = panel("ONNX Runtime latency (ms per forward pass)", func(p MethodPoint) float64 { return p.LatencyMS }, fullLatencyMS); err != nil {
			return err
		}
	}
	return save(base, ScoresWidth, ScoresHeight, func(c draw.Canvas) {
		if right == nil {
			left.Draw(c)
			return
		}
		half := ScoresWidth / 2
		left.Draw(draw.Crop(c, 0, -half, 0, 0))
		right.Draw(draw.Crop(c, half, 0, 0, -vg.Points(18)))
	})
}
