// Package evaluate owns `extproc eval`: it scores a labelled (or
// unlabelled) JSON Lines data set with the model and with CRS side by side
// and reports TPR and FPR overall, per category, per source and per payload
// family, a threshold sweep, ROC AUC and a per-request predictions CSV. It
// draws the score histogram and the ROC curves as PNG (gonum/plot) and
// writes report.html, a self-contained page whose sliders recompute TPR and
// FPR at every model and CRS threshold from per-score counts
// (Distribution).
package evaluate
