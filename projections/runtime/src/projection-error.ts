import type { RecordedEvent } from '@canopy/eventstore';

/** Why a projector stopped, as stored in `projection_state.error` and shown by `health()`. */
export interface ProjectionError {
  message: string;
  /** The event `apply` threw on (positions and revisions as decimal strings: JSON has no bigint). */
  event?: { id: string; stream: string; revision: string; position: string; type: string };
  at: string;
}

/** `apply` threw: the event is named, the batch was rolled back, the projector stops. */
export class PoisonEventError extends Error {
  constructor(
    readonly projector: string,
    readonly version: number,
    readonly event: RecordedEvent,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `Projector ${projector} v${version} cannot apply event ${event.id} (${event.type}, stream ${event.stream} revision ${event.revision}, position ${event.position}): ${reason}`,
      { cause },
    );
    this.name = 'PoisonEventError';
  }

  toProjectionError(): ProjectionError {
    const { id, stream, revision, position, type } = this.event;
    return { message: this.message, event: { id, stream, type, revision: String(revision), position: String(position) }, at: new Date().toISOString() };
  }
}

export function projectionError(error: unknown): ProjectionError {
  if (error instanceof PoisonEventError) return error.toProjectionError();
  return { message: error instanceof Error ? error.message : String(error), at: new Date().toISOString() };
}
