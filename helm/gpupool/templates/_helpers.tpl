{{/*
Chart name, truncated to the 63 characters Kubernetes allows in names and labels.
*/}}
{{- define "gpupool.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name prefix of every resource: <release>-<chart> unless the release name already contains
the chart name.
*/}}
{{- define "gpupool.fullname" -}}
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

{{- define "gpupool.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels that select the operator pods; never change them on upgrade (Deployment selectors are
immutable).
*/}}
{{- define "gpupool.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gpupool.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "gpupool.labels" -}}
helm.sh/chart: {{ include "gpupool.chart" . }}
{{ include "gpupool.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gpupool
{{- end }}

{{- define "gpupool.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gpupool.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Operator image: repository@digest when a digest is set, else repository:tag (tag defaults to the
chart's appVersion).
*/}}
{{- define "gpupool.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The RBAC contract (files/rbac.yaml) as a dict: clusterRules, usageRecordRules,
leaderElectionRules.
*/}}
{{- define "gpupool.rbacContract" -}}
{{- .Files.Get "files/rbac.yaml" }}
{{- end }}

{{/*
Job label every gpupool scrape target carries; the alerts and dashboards select on it.
*/}}
{{- define "gpupool.metricsJob" -}}
gpupool-operator
{{- end }}

{{/*
Fails the render when billing is on without what it needs.
*/}}
{{- define "gpupool.validateBilling" -}}
{{- if .Values.billing.enabled }}
{{- if and .Values.billing.rpcUrl .Values.billing.rpcUrlSecret.secretName }}
{{- fail "billing.rpcUrl and billing.rpcUrlSecret.secretName are exclusive: keep a URL carrying an API key in the Secret only" }}
{{- end }}
{{- if not (or .Values.billing.rpcUrl .Values.billing.rpcUrlSecret.secretName) }}
{{- fail "billing.rpcUrl (or billing.rpcUrlSecret.secretName, a Secret holding it) is required when billing.enabled is true" }}
{{- end }}
{{- $_ := required "billing.contractAddress is required when billing.enabled is true" .Values.billing.contractAddress }}
{{- $_ := required "billing.reporterKey.secretName is required when billing.enabled is true (a Secret holding the reporter key; never put the key in values)" .Values.billing.reporterKey.secretName }}
{{- end }}
{{- end }}

{{/*
The Secret holding the metrics TLS certificate: metrics.tls.secretName, or <release>-metrics-tls,
written by cert-manager for the chart's Certificate or generated self-signed by the chart.
*/}}
{{- define "gpupool.metricsTlsSecret" -}}
{{- if .Values.metrics.tls.secretName -}}
{{- .Values.metrics.tls.secretName -}}
{{- else -}}
{{- include "gpupool.fullname" . }}-metrics-tls
{{- end -}}
{{- end }}

{{/* The container port the metrics are served on: https (8443) with TLS, http (8080) without. */}}
{{- define "gpupool.metricsPort" -}}
{{- if .Values.metrics.tls.enabled }}https{{ else }}http{{ end -}}
{{- end }}

{{/*
Image of the chart's hook Jobs (kubectl and a POSIX shell): repository@digest when a digest is
set, else repository:tag.
*/}}
{{- define "gpupool.hookImage" -}}
{{- if .Values.hooks.image.digest }}
{{- printf "%s@%s" .Values.hooks.image.repository .Values.hooks.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.hooks.image.repository .Values.hooks.image.tag }}
{{- end }}
{{- end }}

{{/*
Pod spec fields every hook Job shares: non-root, read-only root filesystem, kubectl's cache on an
emptyDir.
*/}}
{{- define "gpupool.hookPod" -}}
restartPolicy: Never
automountServiceAccountToken: true
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: 65534
  runAsGroup: 65534
  seccompProfile:
    type: RuntimeDefault
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "gpupool.hookContainer" -}}
image: {{ include "gpupool.hookImage" . | quote }}
imagePullPolicy: {{ .Values.hooks.image.pullPolicy }}
resources:
  {{- toYaml .Values.hooks.resources | nindent 2 }}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop:
      - ALL
{{- end }}

{{- /*
The challenge program's measured rates (trust.challenge.rates) as the operator reads them:
comma-separated PRODUCT@SIZE=ROUNDS_PER_SECOND, the line challenge.py --bench prints. A rate holds
for the size it was measured at only, so one at another size than the challenges have is refused
here rather than left to time nothing.
*/ -}}
{{- define "gpupool.challengeRates" -}}
{{- $entries := list }}
{{- range $i, $r := .rates }}
{{- if ne (int64 $r.size) (int64 $.size) }}
{{- fail (printf "trust.challenge.rates[%d] (%s) was measured at size %d, but trust.challenge.size is %d: measure it again with challenge.py --bench %d" $i $r.product (int64 $r.size) (int64 $.size) (int64 $.size)) }}
{{- end }}
{{- $entries = append $entries (printf "%s@%d=%v" $r.product (int64 $r.size) $r.roundsPerSecond) }}
{{- end }}
{{- join "," $entries }}
{{- end }}
