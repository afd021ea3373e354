/** The screens in the navigation: only screens that work are listed. */
import type { Component } from 'vue';
import DatasetsView from './DatasetsView.vue';

export interface Screen {
  id: string;
  label: string;
  component: Component;
}

export const screens: Screen[] = [{ id: 'datasets', label: 'Datasets', component: DatasetsView }];
