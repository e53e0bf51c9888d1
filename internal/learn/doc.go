// Package learn labels traffic collected by the server (internal/collect)
// for site-adapted training: CRS's matched rules at every paranoia level and
// the current model make the attack candidates, traffic that neither flags
// is benign, and an operator feedback file overrides both. It is the logic
// behind `extproc learn label`; `extproc learn train` hands its output to
// the Python trainer (model/train/bulwark_train/site.py).
package learn
