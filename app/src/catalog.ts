// The GPU catalog: the API's, or, when the API does not answer, the same catalog read from the
// chain's accounts by the market rules (@calor/sdk), so renting never depends on the API.
import { catalogOnChain } from './chain';
import { api, problemText, type GpuCatalog } from './api';

export type LoadedCatalog = {
  catalog: GpuCatalog | null;
  /** Why the API's catalog is not shown (the chain's is, when `catalog` is set). */
  apiProblem: string | null;
  error: string | null;
};

export async function loadCatalog(): Promise<LoadedCatalog> {
  const { data, error, response } = await api.GET('/api/gpus');
  if (data) return { catalog: data, apiProblem: null, error: null };
  const apiProblem = problemText(error, response);
  try {
    return { catalog: await catalogOnChain(), apiProblem, error: null };
  } catch (e) {
    return { catalog: null, apiProblem, error: `${apiProblem}; the chain could not be read either (${(e as Error).message})` };
  }
}
