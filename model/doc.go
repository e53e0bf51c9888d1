// Package model owns Bulwark's machine-learning attack score: it splits a
// request into fields (path, query arguments, form and JSON body fields,
// headers, cookies), computes the lexical feature vector of each field, runs
// the LightGBM ensemble through github.com/dmitryikh/leaves and turns the
// result into calibrated 1–99 scores (1 = certainly an attack, 99 = clean)
// per class and per location.
//
// The same feature code writes the training matrix (see WriteFeatures), so
// the Python trainer in model/train never re-implements a feature and
// training and serving cannot drift. The model file carries the feature
// schema version it was trained with; Load refuses any other version.
package model
