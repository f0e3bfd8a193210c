/** The bare workflow's activity: does nothing, so the round trip is all Temporal's. */
export async function touch(): Promise<void> {}
