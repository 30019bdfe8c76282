export interface PageRequest {
  limit: number;
  offset: number;
}

/** CallFire's page wrapper: always all four keys. */
export interface Page<T> {
  items: T[];
  limit: number;
  offset: number;
  totalCount: number;
}
