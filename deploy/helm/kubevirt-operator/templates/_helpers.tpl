{{/* Chart name, truncated to 63 characters (a label value). */}}
{{- define "kubevirt-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, unless it already contains the chart name. */}}
{{- define "kubevirt-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "kubevirt-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubevirt-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kubevirt-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kubevirt-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "kubevirt-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kubevirt-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kubevirt-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Fails rendering on values that would deploy something broken. */}}
{{- define "kubevirt-operator.validate" -}}
{{- if not (has .Values.target (list "supervisor" "remote")) }}
{{- fail (printf "target must be supervisor or remote, not %q" .Values.target) }}
{{- end }}
{{- if and (not .Values.leaderElection.enabled) (gt (int .Values.replicaCount) 1) }}
{{- fail "leaderElection.enabled=false with replicaCount > 1 would run several operators at once: set replicaCount: 1" }}
{{- end }}
{{- if not (has .Values.pvcVolumeMode (list "Block" "Filesystem")) }}
{{- fail (printf "pvcVolumeMode must be Block or Filesystem, not %q" .Values.pvcVolumeMode) }}
{{- end }}
{{- if not (has .Values.pvcAccessMode (list "ReadWriteOnce" "ReadWriteMany" "ReadOnlyMany" "ReadWriteOncePod")) }}
{{- fail (printf "pvcAccessMode must be ReadWriteOnce, ReadWriteMany, ReadOnlyMany or ReadWriteOncePod, not %q" .Values.pvcAccessMode) }}
{{- end }}
{{- if not (has .Values.logging.level (list "Debug" "Info" "Warning" "Error")) }}
{{- fail (printf "logging.level must be Debug, Info, Warning or Error, not %q" .Values.logging.level) }}
{{- end }}
{{- if or (lt (int .Values.workers) 1) (lt (int .Values.resyncSeconds) 1) }}
{{- fail "workers and resyncSeconds must be positive integers" }}
{{- end }}
{{- end }}
