/**
 * ServerFeatures.GetSupportedMethods: the methods this server implements, in
 * the lower-case form and with the feature tags EventStoreDB reports. The
 * client reads it once per connection; BatchAppend's presence makes it
 * append through BatchAppend instead of Append.
 */
import type { handleUnaryCall } from '@grpc/grpc-js';
import { SupportedMethod, SupportedMethods, type Empty } from './protocol.js';

export interface ServerFeaturesOptions {
  /** Advertise Streams.BatchAppend (as EventStoreDB 21.10 and later do). */
  batchAppend: boolean;
  /** Reported as `event_store_server_version`. */
  serverVersion: string;
}

function method(service: string, name: string, features: string[] = []): InstanceType<typeof SupportedMethod> {
  const supported = new SupportedMethod();
  supported.setServiceName(service.toLowerCase());
  supported.setMethodName(name.toLowerCase());
  supported.setFeaturesList(features);
  return supported;
}

export function supportedMethods(options: ServerFeaturesOptions): InstanceType<typeof SupportedMethods> {
  const methods = [
    method('event_store.client.streams.Streams', 'Read', ['position', 'events']),
    method('event_store.client.streams.Streams', 'Append'),
    ...(options.batchAppend ? [method('event_store.client.streams.Streams', 'BatchAppend', ['deadline_duration'])] : []),
    method('event_store.client.server_features.ServerFeatures', 'GetSupportedMethods'),
    method('event_store.client.gossip.Gossip', 'Read'),
  ];
  const result = new SupportedMethods();
  result.setMethodsList(methods);
  result.setEventStoreServerVersion(options.serverVersion);
  return result;
}

export function serverFeaturesHandler(options: ServerFeaturesOptions): handleUnaryCall<Empty, InstanceType<typeof SupportedMethods>> {
  return (_call, callback) => callback(null, supportedMethods(options));
}
