// Types that describe dashboards as JSON files hold them: @grafana/schema declares enum-typed
// fields (ThresholdsMode, FieldColorModeId, BigValueColorMode, ...) as TypeScript string enums,
// which a JSON string literal never satisfies. Json<T> swaps every string enum for the union of its
// values and keeps everything else (including excess-property checks) as strict as T.
import type { Dashboard } from '@grafana/schema';
import type * as bargauge from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type * as heatmap from '@grafana/schema/dist/esm/raw/composable/heatmap/panelcfg/x/HeatmapPanelCfg_types.gen';
import type * as stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type * as timeseries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

export type Json<T> = T extends string
  ? `${T}`
  : T extends readonly (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

/** Like Json<T> with every property optional at every depth: Grafana fills option defaults. */
export type JsonPartial<T> = T extends string
  ? `${T}`
  : T extends readonly (infer U)[]
    ? JsonPartial<U>[]
    : T extends object
      ? { [K in keyof T]?: JsonPartial<T[K]> }
      : T;

export type DashboardJson = Json<Dashboard>;

/** Panel options and fieldConfig.defaults.custom per panel type the dashboards use. */
export interface PanelTypes {
  bargauge: { options: JsonPartial<bargauge.Options>; custom: Record<string, never> };
  heatmap: { options: JsonPartial<heatmap.Options>; custom: JsonPartial<heatmap.FieldConfig> };
  stat: { options: JsonPartial<stat.Options>; custom: Record<string, never> };
  table: { options: JsonPartial<table.Options>; custom: JsonPartial<table.FieldConfig> };
  timeseries: { options: JsonPartial<timeseries.Options>; custom: JsonPartial<timeseries.FieldConfig> };
  row: { options: Record<string, never>; custom: Record<string, never> };
}

/**
 * A Prometheus panel query as Grafana stores it. @grafana/schema has no Prometheus query type
 * (the data source plugin owns it); these are the fields of Grafana's PromQuery the dashboards use.
 */
export interface PrometheusTarget {
  refId: string;
  expr: string;
  datasource: { type: 'prometheus'; uid: string };
  legendFormat?: string;
  range?: boolean;
  instant?: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
  interval?: string;
  hide?: boolean;
  exemplar?: boolean;
  editorMode?: 'code' | 'builder';
}
