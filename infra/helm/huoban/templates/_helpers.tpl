{{/* Chart name, truncated to the 63 characters Kubernetes allows in a name. */}}
{{- define "huoban.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name; the release name alone when it already contains the chart name. */}}
{{- define "huoban.fullname" -}}
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

{{- define "huoban.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels for every object. */}}
{{- define "huoban.labels" -}}
helm.sh/chart: {{ include "huoban.chart" . }}
app.kubernetes.io/name: {{ include "huoban.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: huoban
{{- end }}

{{/* Selector labels of one component: include "huoban.selectorLabels" (dict "ctx" $ "component" "web") */}}
{{- define "huoban.selectorLabels" -}}
app.kubernetes.io/name: {{ include "huoban.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of one component's objects and pods. */}}
{{- define "huoban.componentLabels" -}}
{{ include "huoban.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "huoban.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "huoban.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the pods read: the chart's own (secret.create) or one managed outside the chart. */}}
{{- define "huoban.secretName" -}}
{{- if and (not .Values.secret.create) .Values.secret.existingSecret }}
{{- .Values.secret.existingSecret }}
{{- else }}
{{- include "huoban.fullname" . }}
{{- end }}
{{- end }}

{{- define "huoban.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "huoban.siteUrl" -}}
{{- if .Values.siteUrl }}
{{- .Values.siteUrl | trimSuffix "/" }}
{{- else }}
{{- printf "%s://%s" .Values.siteScheme .Values.baseDomain }}
{{- end }}
{{- end }}

{{- define "huoban.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "huoban.fullname" .)) .Values.ingress.tls.secretName }}
{{- end }}

{{/* Pod annotations that roll the pods when their configuration changes. */}}
{{- define "huoban.configChecksums" -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if .Values.secret.create }}
checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end }}

{{/* Hook annotations for objects the pre-install/pre-upgrade migration Job needs before it runs. */}}
{{- define "huoban.preHookAnnotations" -}}
{{- if .Values.migrate.enabled }}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: "-10"
helm.sh/hook-delete-policy: before-hook-creation
{{- end }}
{{- end }}

{{/* Configuration from the ConfigMap and the Secret. */}}
{{- define "huoban.envFrom" -}}
- configMapRef:
    name: {{ include "huoban.fullname" . }}
- secretRef:
    name: {{ include "huoban.secretName" . }}
{{- end }}

{{- define "huoban.volumeMounts" -}}
- name: huoban-home
  mountPath: /var/lib/huoban
- name: tmp
  mountPath: /tmp
{{- end }}

{{- define "huoban.volumes" -}}
- name: huoban-home
  emptyDir:
    sizeLimit: {{ .Values.scratch.huobanHomeSizeLimit }}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.scratch.tmpSizeLimit }}
{{- end }}

{{/* Pod-level settings shared by every workload. */}}
{{- define "huoban.podCommon" -}}
serviceAccountName: {{ include "huoban.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* Probe headers: the app routes by Host, and redirects plain http when HUOBAN_SSL_REDIRECT is on. */}}
{{- define "huoban.probeHttpGet" -}}
{{- /* called with (dict "root" $ "path" "/healthz") */ -}}
httpGet:
  path: {{ .path }}
  port: http
  httpHeaders:
    - name: Host
      value: {{ .root.Values.baseDomain | quote }}
    - name: X-Forwarded-Proto
      value: {{ .root.Values.siteScheme | quote }}
{{- end }}
