package onnx

// SetDimValue makes d the fixed size v, clearing dim_param (they are a
// oneof). A size of 0 is written too.
func (d *Dimension) SetDimValue(v int64) {
	d.DimValue, d.DimParam = v, ""
	d.ClearHas(2)
	d.SetHas(1)
}

// SetDimParam makes d the symbolic size p, clearing dim_value.
func (d *Dimension) SetDimParam(p string) {
	d.DimValue, d.DimParam = 0, p
	d.ClearHas(1)
	d.SetHas(2)
}
