{{/* Names and labels shared by every object. */}}

{{- define "bulwark.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bulwark.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "bulwark.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "bulwark.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The pod selector: stable across upgrades, so never add the version. */}}
{{- define "bulwark.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bulwark.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "bulwark.labels" -}}
{{ include "bulwark.selectorLabels" . }}
app.kubernetes.io/component: waf
app.kubernetes.io/part-of: bulwark
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{- define "bulwark.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
bulwark.config renders config.yaml: the config value plus waf.rules_files
for the mounted custom rules. Only set when there are rules, because the
server refuses a rules_files glob that matches nothing.
*/}}
{{- define "bulwark.config" -}}
{{- $cfg := deepCopy .Values.config -}}
{{- if .Values.customRules -}}
{{- $waf := default dict $cfg.waf -}}
{{- $files := default list $waf.rules_files -}}
{{- $_ := set $waf "rules_files" (append $files "/etc/bulwark/rules/*.conf") -}}
{{- $_ := set $cfg "waf" $waf -}}
{{- end -}}
{{- if not $cfg.policies -}}
{{- $_ := unset $cfg "policies" -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* bulwark.modelEnabled is "true" when a model source is set. */}}
{{- define "bulwark.modelEnabled" -}}
{{- if or .Values.model.configMap .Values.model.volume -}}true{{- end -}}
{{- end -}}
