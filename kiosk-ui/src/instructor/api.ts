// Typed calls to the instructor API (agent/web/api-types.ts is the contract). Same-origin fetches:
// the browser sends Origin on every POST, which the agent requires for anything that changes.
import type { DongleRoleRequest, DongleRoleResult, HardwareView, DiagramView, CaptureView, InstructorCaptureRequest, DockerNetworksView, NetworkEndpointRequest,
  AclCountersView, AclRequest, ApiError, CardsView, ClassView, InstructorSessionView, LessonListItem, LessonUploadResult, MirrorRequest, OpResult, StartRequest,
} from '../../../agent/web/api-types.js';
import { ApiFailure, call } from '../shared/api.js';

export const teacher = {
  session: () => call<InstructorSessionView>('GET', '/api/instructor/session'),
  login: (password: string) => call<InstructorSessionView>('POST', '/api/instructor/login', { password }),
  logout: () => call<unknown>('POST', '/api/instructor/logout'),
  classView: () => call<ClassView>('GET', '/api/instructor/class'),
  cards: () => call<CardsView>('GET', '/api/instructor/cards'),
  diagram: () => call<DiagramView>('GET', '/api/instructor/diagram'),
  lessons: () => call<LessonListItem[]>('GET', '/api/instructor/lessons'),
  remove: (id: string) => call<OpResult>('DELETE', `/api/instructor/lessons/${encodeURIComponent(id)}`),
  start: (r: StartRequest) => call<OpResult>('POST', '/api/instructor/start', r),
  stop: () => call<OpResult>('POST', '/api/instructor/stop', {}),
  reset: (group: number) => call<OpResult>('POST', '/api/instructor/reset', { group }),
  acl: (r: AclRequest) => call<OpResult>('POST', '/api/instructor/acl', r),
  aclCounters: () => call<AclCountersView>('GET', '/api/instructor/acl-counters'),
  mirror: (r: MirrorRequest) => call<OpResult>('POST', '/api/instructor/mirror', r),
  networks: () => call<DockerNetworksView>('GET', '/api/instructor/networks'),
  networksDiagram: () => call<DiagramView>('GET', '/api/instructor/networks/diagram'),
  networkEndpoint: (r: NetworkEndpointRequest) => call<OpResult>('POST', '/api/instructor/network-endpoint', r),
  hardware: () => call<HardwareView>('GET', '/api/instructor/hardware'),
  dongleRole: (r: DongleRoleRequest) => call<DongleRoleResult>('POST', '/api/instructor/dongle-role', r),
  /** Starts a capture of any interface; list, stop and the live view are shared/capture.tsx's. */
  capture: (r: InstructorCaptureRequest) => call<CaptureView>('POST', '/api/instructor/capture', r),
};

/** Uploads a lesson archive with progress (XMLHttpRequest: fetch has no upload progress). */
export function uploadLesson(file: File, onProgress: (fraction: number) => void): Promise<LessonUploadResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/instructor/lessons?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onerror = () => reject(new ApiFailure(0, 'The upload failed: cannot reach the appliance.'));
    xhr.onload = () => {
      let data: unknown;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data as LessonUploadResult);
      else reject(new ApiFailure(xhr.status, (data as ApiError | undefined)?.error ?? `The appliance answered ${xhr.status}.`));
    };
    xhr.send(file);
  });
}
