// Package evaluate owns `extproc eval`: it scores a labelled (or
// unlabelled) JSON Lines data set with the model and with CRS side by side
// and reports TPR and FPR overall, per category and per payload family, a
// threshold sweep, ROC AUC, a per-request predictions CSV and two PNG
// plots (score histogram and ROC curve).
package evaluate
